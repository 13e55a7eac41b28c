/**
 * @module
 * `verify`: re-derives each site's log from the receipts alone and checks everything the server ever signed or
 * stored about it, in log order, so the first problem reported is the first receipt that does not match:
 *
 * - every receipt: its signature over its entry, its stored leaf hash, and that its columns say what the
 *   signed entry says;
 * - leaf indexes 0…n−1 are all present (a deleted row leaves a gap);
 * - every leaf and every stored subtree hash (`log_nodes`, from which proofs are served) against the tree
 *   rebuilt from the entries (rows whose indexes were swapped no longer match the logged leaves);
 * - every checkpoint: its signature, that its note says what its row says, that its root is the root of the
 *   rebuilt tree at its size, and that sizes and times only grow. Two checkpoints whose roots both equal the
 *   rebuilt tree's are consistent: one tree is a prefix of the other, which is what a consistency proof shows;
 * - optionally, checkpoints an auditor kept from before (`trusted`): they must still match, which catches even
 *   a rewrite of the whole database by someone holding the signing key.
 *
 * Memory stays O(log n) per site: leaves are read in pages and the tree is kept as its frontier.
 */
import { subjectCommitment } from '../services/subject-commitment.ts';
import { canonicalJson } from '../../protocol/canonical.ts';
import type { Queryable } from '../db/db.ts';
import { type CheckpointRow, checkpointsAfter } from './checkpoints-repo.ts';
import { noteKeyId, parseCheckpointNote } from './checkpoint.ts';
import { createFrontier, type StoredNode } from './frontier.ts';
import type { Keyring } from './keys.ts';
import {
  type LeafRow,
  sequencedLeavesAfter,
  sitesWithReceipts,
  unsequencedLeavesAfter,
} from './leaves-repo.ts';
import { equalHashes, leafHash } from './merkle.ts';
import { nodeKey, nodesCompletedIn, storedLeafCount } from './nodes-repo.ts';

export type ProblemKind =
  | 'receipt-signature'
  | 'receipt-leaf-hash'
  | 'receipt-entry'
  | 'missing-leaf'
  | 'leaf-mismatch'
  | 'log-node'
  | 'checkpoint-signature'
  | 'checkpoint-note'
  | 'checkpoint-root'
  | 'checkpoint-order'
  | 'checkpoint-beyond-log'
  | 'trusted-checkpoint';

export interface VerifyProblem {
  siteId: string;
  kind: ProblemKind;
  /** The receipt concerned, when one is. */
  receiptId?: string;
  /** The leaf index concerned (null: an unsequenced receipt). */
  leafIndex?: number | null;
  /** The checkpoint concerned, by size. */
  treeSize?: number;
  message: string;
}

export interface SiteReport {
  siteId: string;
  receipts: number;
  /** Leaves rebuilt (the highest leaf index + 1). */
  treeSize: number;
  checkpoints: number;
  /** In log order; at most `maxProblems`. */
  problems: VerifyProblem[];
  /** More problems were found than reported. */
  truncated: boolean;
}

export interface VerifyReport {
  ok: boolean;
  sites: SiteReport[];
  /** The first problem of the first failing site. */
  first?: VerifyProblem;
}

export interface VerifyOptions {
  db: Queryable;
  keyring: Pick<Keyring, 'verify' | 'publicKeys'>;
  /** One site; default every site with receipts. */
  siteId?: string;
  /** Signed checkpoint notes kept by an auditor: each must verify and match the log. */
  trusted?: readonly string[];
  /** Rows read per query (default 1000). */
  pageSize?: number;
  /** Problems reported per site (default 100); verification goes on to count them all. */
  maxProblems?: number;
}

/** Verifies the logs; never throws for what it finds (problems are in the report), only for I/O failures. */
export async function verifyLog(options: VerifyOptions): Promise<VerifyReport> {
  // A site a kept checkpoint names is verified even when none of its receipts is left: that is a deleted log.
  const sites = options.siteId
    ? [options.siteId]
    : [...new Set([...(await sitesWithReceipts(options.db)), ...keptSites(options.trusted ?? [])])];
  const reports: SiteReport[] = [];
  for (const siteId of sites) reports.push(await verifySite(options, siteId));
  const failing = reports.find((r) => r.problems.length > 0);
  const report: VerifyReport = { ok: !failing, sites: reports };
  if (failing) report.first = failing.problems[0];
  return report;
}

async function verifySite(options: VerifyOptions, siteId: string): Promise<SiteReport> {
  const { db, keyring } = options;
  const pageSize = options.pageSize ?? 1000;
  const maxProblems = options.maxProblems ?? 100;
  const report: SiteReport = {
    siteId,
    receipts: 0,
    treeSize: 0,
    checkpoints: 0,
    problems: [],
    truncated: false,
  };
  const problem = (p: Omit<VerifyProblem, 'siteId'>) => {
    if (report.problems.length < maxProblems) report.problems.push({ siteId, ...p });
    else report.truncated = true;
  };
  const checkRow = (row: LeafRow) => checkReceipt(row, keyring, problem);
  const frontier = createFrontier();
  const trusted = parseTrusted(options.trusted ?? [], siteId, keyring, problem);
  const checkpoints = checkpointStream(db, siteId, pageSize);
  let previous: CheckpointRow | undefined;
  let nodeProblemSeen = false;
  let rootMismatches = 0;
  /** Set when indexes jump too far to rebuild the tree: receipts are still checked one by one. */
  let broken = false;

  /** Checks every checkpoint (and trusted note) of the size the rebuilt tree has now. */
  const checkpointsAtCurrentSize = async () => {
    for (let c = await checkpoints.peek(); c && c.treeSize <= frontier.size; c = await checkpoints.peek()) {
      await checkpoints.next();
      report.checkpoints++;
      checkCheckpoint(c, previous, keyring, problem);
      previous = c;
      if (c.treeSize !== frontier.size || c.rootHash === Buffer.from(frontier.root()).toString('hex'))
        continue;
      // Once the rebuilt tree differs, every later checkpoint differs too: name the first, count the rest.
      if (rootMismatches++ === 0)
        problem({
          kind: 'checkpoint-root',
          treeSize: c.treeSize,
          message: `checkpoint of size ${c.treeSize} (${new Date(c.createdAt).toISOString()}) has a root that is not the root of the first ${c.treeSize} receipts`,
        });
    }
    for (const t of trusted.filter((t) => t.treeSize === frontier.size))
      if (!equalHashes(t.root, frontier.root()))
        problem({
          kind: 'trusted-checkpoint',
          treeSize: t.treeSize,
          message: `the kept checkpoint of size ${t.treeSize} does not match the first ${t.treeSize} receipts: the log was rewritten`,
        });
  };
  const compareNode = (node: StoredNode, stored: Uint8Array | undefined, row: LeafRow | undefined) => {
    if (nodeProblemSeen || (stored && equalHashes(stored, node.hash))) return;
    // One report is enough: a wrong subtree makes every subtree above it wrong too.
    nodeProblemSeen = true;
    problem({
      kind: 'log-node',
      ...(row ? { receiptId: row.receiptId, leafIndex: row.leafIndex } : {}),
      message: `stored subtree hash (level ${node.level}, index ${node.index}) ${stored ? 'differs from' : 'is missing in'} the tree rebuilt from the receipts: proofs served from it are wrong`,
    });
  };
  // Checkpoints of an empty tree (none are published, but a forged one is checked too).
  await checkpointsAtCurrentSize();

  let expected = 0;
  for (let page = await sequencedLeavesAfter(db, siteId, -1, pageSize); page.length > 0; ) {
    const last = page.at(-1)!.leafIndex!;
    const logged = new Map<string, Uint8Array>();
    if (!broken && last - expected < 4 * pageSize)
      for (const n of await nodesCompletedIn(db, siteId, expected, last + 1)) logged.set(nodeKey(n), n.hash);
    const append = async (hash: Uint8Array, row: LeafRow | undefined) => {
      for (const node of frontier.append(hash).slice(1)) compareNode(node, logged.get(nodeKey(node)), row);
      await checkpointsAtCurrentSize();
    };
    for (const row of page) {
      report.receipts++;
      const index = row.leafIndex!;
      if (index > expected) {
        problem({
          kind: 'missing-leaf',
          leafIndex: expected,
          message: `leaf ${index - expected === 1 ? expected : `${expected}…${index - 1}`} missing: no receipt has this index (deleted?); the next receipt is ${row.receiptId} at leaf ${index}`,
        });
        // Carry on with the hashes the log recorded, so that later checks still mean something.
        const gap = Array.from({ length: Math.min(index - expected, 4 * pageSize) }, (_, i) =>
          logged.get(nodeKey({ level: 0, index: expected + i })),
        );
        broken ||= index - expected > gap.length || gap.some((h) => !h);
        if (!broken) for (const hash of gap) await append(hash!, undefined);
        expected = index;
      }
      checkRow(row);
      expected = index + 1;
      if (broken) continue;
      const computed = leafHash(row.entry);
      const loggedLeaf = logged.get(nodeKey({ level: 0, index }));
      if (!loggedLeaf || !equalHashes(loggedLeaf, computed))
        problem({
          kind: 'leaf-mismatch',
          receiptId: row.receiptId,
          leafIndex: index,
          message: loggedLeaf
            ? `receipt ${row.receiptId} at leaf ${index} is not the receipt the log recorded at that index (rows swapped or replaced?)`
            : `receipt ${row.receiptId} has leaf index ${index} but the log has no leaf there`,
        });
      await append(computed, row);
    }
    page = await sequencedLeavesAfter(db, siteId, last, pageSize);
  }
  report.treeSize = expected;

  const storedLeaves = await storedLeafCount(db, siteId);
  if (storedLeaves > expected)
    problem({
      kind: 'missing-leaf',
      leafIndex: expected,
      message: `the log recorded ${storedLeaves} leaves but only ${expected} receipts have a leaf index (receipts deleted?)`,
    });
  for (let c = await checkpoints.next(); c; c = await checkpoints.next()) {
    report.checkpoints++;
    checkCheckpoint(c, previous, keyring, problem);
    previous = c;
    if (c.treeSize > expected)
      problem({
        kind: 'checkpoint-beyond-log',
        treeSize: c.treeSize,
        message: `checkpoint of size ${c.treeSize} but only ${expected} receipts are in the log (receipts deleted?)`,
      });
  }
  if (rootMismatches > 1)
    problem({
      kind: 'checkpoint-root',
      message: `${rootMismatches - 1} later checkpoints do not match the rebuilt tree either`,
    });
  for (const t of trusted.filter((t) => t.treeSize > expected))
    problem({
      kind: 'trusted-checkpoint',
      treeSize: t.treeSize,
      message: `the kept checkpoint of size ${t.treeSize} is larger than the log (${expected} receipts): receipts deleted`,
    });
  // Receipts waiting for the sequencer: not in the tree yet, but signed all the same.
  let after: { receivedAt: number; receiptId: string } | undefined;
  for (let page = await unsequencedLeavesAfter(db, siteId, after, pageSize); page.length > 0; ) {
    for (const row of page) {
      report.receipts++;
      checkRow(row);
    }
    const last = page.at(-1)!;
    after = { receivedAt: last.receivedAt, receiptId: last.receiptId };
    page = await unsequencedLeavesAfter(db, siteId, after, pageSize);
  }
  return report;
}

type Report = (p: Omit<VerifyProblem, 'siteId'>) => void;

/** The receipt's own checks: signature, stored leaf hash, columns against the signed entry. */
function checkReceipt(row: LeafRow, keyring: Pick<Keyring, 'verify'>, problem: Report): void {
  const at = { receiptId: row.receiptId, leafIndex: row.leafIndex };
  const where = `receipt ${row.receiptId}${row.leafIndex === null ? ' (not yet sequenced)' : ` at leaf ${row.leafIndex}`}`;
  if (!keyring.verify(row.kid, new TextEncoder().encode(row.entry), row.sig)) {
    problem({
      kind: 'receipt-signature',
      ...at,
      message: `${where}: the signature (key ${row.kid}) does not verify over the stored entry: the entry was changed, or the key is unknown`,
    });
  }
  const computed = Buffer.from(leafHash(row.entry)).toString('hex');
  if (computed !== row.leafHash)
    problem({
      kind: 'receipt-leaf-hash',
      ...at,
      message: `${where}: stored leaf hash is not the hash of its entry`,
    });
  const mismatch = entryMismatch(row);
  if (mismatch) problem({ kind: 'receipt-entry', ...at, message: `${where}: ${mismatch}` });
}

/** Which column disagrees with the signed entry, if any. */
function entryMismatch(row: LeafRow): string | undefined {
  let parsed: { receipt?: Record<string, unknown>; receivedAt?: unknown };
  try {
    parsed = JSON.parse(row.entry);
  } catch {
    return 'the entry is not JSON';
  }
  if (canonicalJson(parsed) !== row.entry) return 'the entry is not in canonical form';
  const r = parsed.receipt ?? {};
  const columns: [string, unknown, unknown][] = [
    ['receipt_id', row.receiptId, r.receiptId],
    ['site_id', row.siteId, r.siteId],
    ['device_id', row.deviceId, r.deviceId ?? null],
    ['method', row.method, r.method],
    ['collected_at', row.collectedAt, r.collectedAt],
    ['received_at', row.receivedAt, parsed.receivedAt],
  ];
  const wrong = columns.filter(([, column, signed]) => column !== signed).map(([name]) => name);
  // Who a decision outside a browser is for (services/subject-commitment.ts): subject_id and its salt must give
  // the signed commitment, or both be gone (retention detached the receipt from its person).
  const commitment = r.subjectCommitment;
  const { subjectId = null, subjectSalt = null } = row;
  if (
    typeof commitment === 'string' &&
    (subjectId !== null || subjectSalt !== null) &&
    (subjectId === null || subjectSalt === null || subjectCommitment(subjectSalt, subjectId) !== commitment)
  )
    wrong.push('subject_id');
  return wrong.length ? `column ${wrong.join(', ')} differs from the signed entry` : undefined;
}

/** A checkpoint's own checks: note against row, signature, growth. */
function checkCheckpoint(
  c: CheckpointRow,
  previous: CheckpointRow | undefined,
  keyring: Pick<Keyring, 'verify' | 'publicKeys'>,
  problem: Report,
): void {
  const at = { treeSize: c.treeSize };
  const label = `checkpoint of size ${c.treeSize} (${new Date(c.createdAt).toISOString()})`;
  let note: ReturnType<typeof parseCheckpointNote>;
  try {
    note = parseCheckpointNote(c.note);
  } catch (err) {
    problem({ kind: 'checkpoint-note', ...at, message: `${label}: ${(err as Error).message}` });
    return;
  }
  const root = Buffer.from(note.root).toString('hex');
  if (
    note.origin !== c.origin ||
    note.treeSize !== c.treeSize ||
    root !== c.rootHash ||
    note.timestamp !== c.createdAt
  )
    problem({
      kind: 'checkpoint-note',
      ...at,
      message: `${label}: the signed note says something else than its row`,
    });
  const key = keyring.publicKeys().find((k) => k.kid === c.kid);
  const signed = keyring.verify(c.kid, Buffer.from(note.text, 'utf8'), c.sig);
  const inNote =
    key &&
    note.signatures.some(
      (s) =>
        s.name === note.origin &&
        s.keyId.equals(noteKeyId(note.origin, key.publicKey)) &&
        s.sig.toString('base64url') === c.sig,
    );
  if (!signed || !inNote)
    problem({
      kind: 'checkpoint-signature',
      ...at,
      message: `${label}: the signature (key ${c.kid}) does not verify`,
    });
  if (previous && c.createdAt < previous.createdAt)
    problem({
      kind: 'checkpoint-order',
      ...at,
      message: `${label} is older than the checkpoint of size ${previous.treeSize} before it`,
    });
}

/** The sites whose logs the kept notes are checkpoints of (origin `<host>/log/<site id>`). */
function keptSites(notes: readonly string[]): string[] {
  return notes.flatMap((text) => {
    try {
      const { origin } = parseCheckpointNote(text);
      return [origin.slice(origin.lastIndexOf('/log/') + 5)];
    } catch {
      return [];
    }
  });
}

/** Trusted notes of this site that verify with a known key; others are reported. */
function parseTrusted(
  notes: readonly string[],
  siteId: string,
  keyring: Pick<Keyring, 'verify' | 'publicKeys'>,
  problem: Report,
): { treeSize: number; root: Uint8Array }[] {
  const out: { treeSize: number; root: Uint8Array }[] = [];
  for (const text of notes) {
    let note: ReturnType<typeof parseCheckpointNote>;
    try {
      note = parseCheckpointNote(text);
    } catch {
      continue;
    }
    if (!note.origin.endsWith(`/log/${siteId}`)) continue;
    const ok = keyring
      .publicKeys()
      .some((k) =>
        note.signatures.some(
          (s) =>
            s.keyId.equals(noteKeyId(note.origin, k.publicKey)) &&
            keyring.verify(k.kid, Buffer.from(note.text, 'utf8'), s.sig.toString('base64url')),
        ),
      );
    if (ok) out.push({ treeSize: note.treeSize, root: note.root });
    else
      problem({
        kind: 'trusted-checkpoint',
        treeSize: note.treeSize,
        message: `the kept checkpoint of size ${note.treeSize} is not signed by a known key`,
      });
  }
  return out;
}

/** Checkpoints of a site in (size, time) order, read page by page, with one-item lookahead. */
function checkpointStream(db: Queryable, siteId: string, pageSize: number) {
  let buffer: CheckpointRow[] = [];
  let last: CheckpointRow | undefined;
  let done = false;
  const fill = async () => {
    if (buffer.length > 0 || done) return;
    buffer = await checkpointsAfter(db, siteId, last, pageSize);
    if (buffer.length < pageSize) done = true;
  };
  return {
    async peek() {
      await fill();
      return buffer[0];
    },
    async next() {
      await fill();
      const c = buffer.shift();
      if (c) last = c;
      return c;
    },
  };
}
