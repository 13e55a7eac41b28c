/**
 * @module
 * Export for auditors: a site's receipts received in a time range, each with its signature, leaf index and
 * inclusion proof against the site's latest checkpoint, which the export carries too. NDJSON (a header line,
 * then one line per receipt) or CSV (one row per receipt, RFC 4180). Streams page by page.
 *
 * Receipts are evidence and go out exactly as signed. Beside each one, `effective` says what it still grants
 * at the export's time (`asOf`): a grant past its expiry counts as denied and is listed in `expiredAt`
 * (services/consent-expiry.ts). That is the receipt taken alone; a later receipt may have replaced it.
 */
import type { ReceiptProofResponse } from '../../protocol/log.ts';
import type { Queryable } from '../db/db.ts';
import { type ReceiptEffect, receiptEffect } from '../services/consent-expiry.ts';
import { type CheckpointRow, latestCheckpoint } from './checkpoints-repo.ts';
import { type KantaraOptions, kantaraReceipt } from './kantara.ts';
import type { Keyring } from './keys.ts';
import {
  type LeafRow,
  sequencedLeavesReceivedBetween,
  unsequencedLeavesReceivedBetween,
} from './leaves-repo.ts';
import { createNodeReader, proveLeaf } from './proofs.ts';
import { checkpointJson, hashHex, signedReceiptJson } from './wire.ts';

export type ExportFormat = 'ndjson' | 'csv';

export interface ExportOptions {
  db: Queryable;
  keyring: Pick<Keyring, 'publicKeys'>;
  siteId: string;
  /** Received at or after (epoch ms); default the beginning. */
  from?: number;
  /** Received before (epoch ms); default no end. */
  to?: number;
  format: ExportFormat;
  /** Also render each receipt as a Kantara v1.1 consent receipt. */
  kantara?: KantaraOptions | false;
  write: (chunk: string) => void | Promise<void>;
  pageSize?: number;
  /** The time the effective state (expired grants count as denied) is computed for; default now. */
  asOf?: number;
}

export interface ExportSummary {
  receipts: number;
  /** Receipts with an inclusion proof (the others are not in a checkpoint yet). */
  proven: number;
  checkpoint?: CheckpointRow;
}

/** One exported receipt: the proof answer, or the receipt alone while it is not in a checkpoint yet. */
type Line = Omit<ReceiptProofResponse, 'checkpoint' | 'leafIndex' | 'inclusionProof'> & {
  leafIndex: number | null;
  /** Size of the checkpoint the proof is against; null while not proven. */
  treeSize: number | null;
  inclusionProof: string[] | null;
  /** What the receipt still grants at the export's `asOf` (expired grants denied); not part of the proof. */
  effective: ReceiptEffect;
};

const CSV_COLUMNS = [
  'receipt_id',
  'site_id',
  'device_id',
  'method',
  'revision',
  'notice_hash',
  'language',
  'collected_at',
  'received_at',
  'expires_at',
  'categories',
  'services',
  'leaf_index',
  'leaf_hash',
  'kid',
  'sig',
  'tree_size',
  'root_hash',
  'inclusion_proof',
  'entry',
  'checkpoint',
  // Not part of the proof: the receipt's state at the export's time (expired grants count as denied).
  'expired',
  'effective',
  'expired_at',
] as const;

/** A CSV field (RFC 4180). */
export function csvField(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Free text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets an apostrophe in front
 * (OWASP CSV injection). Only for the one free-text column (`revision`): signatures, hashes and the signed
 * entry are exported byte for byte (a base64url signature may well start with `-`).
 */
export function spreadsheetSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Writes the export; resolves with what it wrote. */
export async function exportReceipts(options: ExportOptions): Promise<ExportSummary> {
  const { db, siteId, format, write } = options;
  const pageSize = options.pageSize ?? 500;
  const range = { from: options.from ?? 0, to: options.to ?? Number.MAX_SAFE_INTEGER };
  const asOf = options.asOf ?? Date.now();
  const head = await latestCheckpoint(db, siteId);
  const nodes = createNodeReader(db);
  const keys = options.keyring.publicKeys();
  const summary: ExportSummary = { receipts: 0, proven: 0 };
  if (head) summary.checkpoint = head;

  const columns = options.kantara ? [...CSV_COLUMNS, 'kantara'] : [...CSV_COLUMNS];
  if (format === 'csv') await write(`${columns.join(',')}\r\n`);
  else
    await write(
      `${JSON.stringify({
        type: 'export',
        siteId,
        from: range.from,
        to: options.to ?? null,
        asOf,
        checkpoint: head ? checkpointJson(head) : null,
        keys,
      })}\n`,
    );

  const emit = async (leaf: LeafRow) => {
    const line = await exportLine(leaf);
    summary.receipts++;
    if (line.inclusionProof) summary.proven++;
    const key = keys.find((k) => k.kid === leaf.kid);
    const kantara = options.kantara
      ? kantaraReceipt(line.signed, {
          ...options.kantara,
          asOf,
          ...(key ? { publicKey: key.publicKey } : {}),
        })
      : undefined;
    await write(
      format === 'csv'
        ? csvRow(leaf, line, kantara)
        : `${JSON.stringify({ type: 'receipt', ...line, ...(kantara ? { kantara } : {}) })}\n`,
    );
  };
  // Log order: the sequenced receipts by leaf index, then those still waiting for one.
  let afterIndex = -1;
  for (
    let page = await sequencedLeavesReceivedBetween(db, siteId, range, afterIndex, pageSize);
    page.length > 0;
  ) {
    for (const leaf of page) await emit(leaf);
    afterIndex = page.at(-1)!.leafIndex!;
    page = await sequencedLeavesReceivedBetween(db, siteId, range, afterIndex, pageSize);
  }
  let after: { receivedAt: number; receiptId: string } | undefined;
  for (
    let page = await unsequencedLeavesReceivedBetween(db, siteId, range, after, pageSize);
    page.length > 0;
  ) {
    for (const leaf of page) await emit(leaf);
    const last = page.at(-1)!;
    after = { receivedAt: last.receivedAt, receiptId: last.receiptId };
    page = await unsequencedLeavesReceivedBetween(db, siteId, range, after, pageSize);
  }
  return summary;

  async function exportLine(leaf: LeafRow): Promise<Line> {
    const base = {
      receiptId: leaf.receiptId,
      siteId: leaf.siteId,
      leafHash: leaf.leafHash,
      signed: signedReceiptJson(leaf),
    };
    const effective = receiptEffect(base.signed.receipt, asOf, base.signed.receivedAt);
    if (!head || leaf.leafIndex === null || leaf.leafIndex >= head.treeSize)
      return { ...base, leafIndex: leaf.leafIndex, treeSize: null, inclusionProof: null, effective };
    const { proof } = await proveLeaf(nodes, { ...leaf, leafIndex: leaf.leafIndex }, head);
    return {
      ...base,
      leafIndex: leaf.leafIndex,
      treeSize: head.treeSize,
      inclusionProof: proof.map(hashHex),
      effective,
    };
  }

  function csvRow(leaf: LeafRow, line: Line, kantara: unknown): string {
    const r = line.signed.receipt;
    const cells: unknown[] = [
      leaf.receiptId,
      leaf.siteId,
      leaf.deviceId,
      leaf.method,
      spreadsheetSafe(r.revision),
      r.noticeHash,
      r.language,
      iso(r.collectedAt),
      iso(leaf.receivedAt),
      iso(r.expiresAt),
      r.categories,
      r.services,
      line.leafIndex,
      leaf.leafHash,
      leaf.kid,
      leaf.sig,
      line.treeSize,
      line.treeSize === null ? null : head?.rootHash,
      line.inclusionProof?.join(' ') ?? null,
      leaf.entry,
      line.treeSize === null ? null : head?.note,
      line.effective.expired,
      {
        categories: line.effective.categories,
        services: line.effective.services,
        preferences: line.effective.preferences,
      },
      Object.fromEntries(Object.entries(line.effective.expiredAt).map(([id, at]) => [id, iso(at)])),
    ];
    if (kantara) cells.push(kantara);
    return `${cells.map(csvField).join(',')}\r\n`;
  }
}
