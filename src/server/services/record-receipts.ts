/**
 * @module
 * The ingest use case: validate each receipt of a batch on its own, then commit every valid one in ONE
 * transaction (never half a batch) with its signature and the derived per-device state. The receipt id is the
 * idempotency key, forever: the same id with the same receipt answers the original signed receipt (200), the
 * same id with another receipt is a conflict (422).
 */
import type { ReceiptResult, SignedReceipt } from '../../protocol/api.ts';
import { canonicalJson } from '../../protocol/canonical.ts';
import type { ProblemDetails } from '../../protocol/problem.ts';
import { parseReceipt, type Receipt } from '../../protocol/receipt.ts';
import { findSite, type ServerConfig } from '../config.ts';
import type { Db, Queryable } from '../db/db.ts';
import { findReceipts, insertReceiptsWithChoices, type ReceiptRow } from '../db/receipts-repo.ts';
import { HttpProblem, problemBody } from '../errors.ts';
import type { Keyring } from '../log/keys.ts';
import { receiptChoicesOf } from './device-choices.ts';
import { originAllowed, type RequestOrigin } from './origin-policy.ts';
import { buildReceiptRow, signedReceiptOf, storedReceiptCanonical } from './receipt-entry.ts';

/** Runs inside the ingest transaction after the new receipts are inserted (identity linking, subject state). */
export type ReceiptHook = (
  tx: Queryable,
  stored: readonly { receipt: Receipt; row: ReceiptRow }[],
) => Promise<void>;

/** What committing a batch gives back: the stored row of every id, and the ids this batch inserted. */
export interface CommitResult {
  rows: Map<string, ReceiptRow>;
  inserted: Set<string>;
}

/** A validated receipt and its canonical JSON. */
export interface ValidReceipt {
  receipt: Receipt;
  canonical: string;
}

/** Commits validated receipts (distinct ids); resolves once they are committed. */
export type ReceiptCommitter = (receipts: readonly ValidReceipt[]) => Promise<CommitResult>;

export interface RecorderDeps {
  db: Db;
  keyring: Keyring;
  config: ServerConfig;
  now: () => number;
  hooks?: readonly ReceiptHook[];
  /**
   * How batches are committed; default one transaction per batch, in which `hooks` run. The HTTP route passes
   * the group committer (src/server/ingest/group-commit.ts) when there are no hooks.
   */
  committer?: ReceiptCommitter;
}

export interface RecordOptions {
  /** Where the request came from; receipts of sites that do not allow it are refused (403). */
  origin: RequestOrigin;
  /** Server-side callers (email links, the API) skip the origin check. */
  trusted?: boolean;
}

/** PostgreSQL deadlock and serialization failures: the transaction did nothing and can run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 3;

type Valid = ValidReceipt & { index: number };

export function createReceiptRecorder(deps: RecorderDeps) {
  const rejected = (index: number, receiptId: string | null, problem: ProblemDetails): ReceiptResult => ({
    index,
    receiptId,
    status: problem.status,
    outcome: 'rejected',
    problem,
  });

  /** Commits the new receipts; returns the stored row for every id (inserted now or before). */
  async function commit(valid: readonly Valid[]): Promise<CommitResult> {
    if (deps.committer) return deps.committer(valid);
    for (let attempt = 1; ; attempt++) {
      // One clock reading per batch: its receipts share receivedAt and are ordered by id within it.
      const receivedAt = deps.now();
      const candidates = valid.map((v) => ({
        receipt: v.receipt,
        row: buildReceiptRow(v.receipt, receivedAt, deps.keyring, v.canonical),
      }));
      try {
        return await deps.db.transaction(async (tx) => {
          // The statement group commit sends, here inside the transaction the hooks share.
          const inserted = await insertReceiptsWithChoices(
            tx,
            candidates.map((c) => c.row),
            candidates.map((c) => receiptChoicesOf(c.receipt, receivedAt)),
          );
          const stored = candidates.filter((c) => inserted.has(c.row.receiptId));
          for (const hook of deps.hooks ?? []) await hook(tx, stored);
          const rows = new Map(stored.map((c) => [c.row.receiptId, c.row]));
          const existing = candidates
            .filter((c) => !inserted.has(c.row.receiptId))
            .map((c) => c.row.receiptId);
          for (const [id, row] of await findReceipts(tx, existing)) rows.set(id, row);
          return { rows, inserted };
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  /**
   * Records a batch. Returns one result per item, in order. Throws `HttpProblem` 404 `unknown-site` when every
   * item names the same unknown site (the whole request is then about nothing this server knows).
   */
  async function record(items: readonly unknown[], options: RecordOptions): Promise<ReceiptResult[]> {
    const results: (ReceiptResult | undefined)[] = new Array(items.length);
    const valid: Valid[] = [];
    const unknownSites = new Set<string>();
    items.forEach((item, index) => {
      const rawId = (item as { receiptId?: unknown } | null)?.receiptId;
      const receiptId = typeof rawId === 'string' ? rawId : null;
      const parsed = parseReceipt(item);
      if (!parsed.ok) {
        results[index] = rejected(
          index,
          receiptId,
          problemBody(422, 'invalid-receipt', 'The receipt does not match the schema', {
            errors: parsed.errors,
          }),
        );
        return;
      }
      const { receipt } = parsed;
      // Who a decision is for is the server's to sign (email links, the API): a device cannot name a person.
      if (!options.trusted && receipt.subjectCommitment !== undefined) {
        results[index] = rejected(
          index,
          receiptId,
          problemBody(422, 'invalid-receipt', 'The receipt does not match the schema', {
            errors: ['subjectCommitment: set by the server only, never sent by a device'],
          }),
        );
        return;
      }
      const site = findSite(deps.config, receipt.siteId);
      if (!site) {
        unknownSites.add(receipt.siteId);
        results[index] = rejected(
          index,
          receiptId,
          problemBody(404, 'unknown-site', `No site ${receipt.siteId} on this server`),
        );
        return;
      }
      if (!options.trusted && !originAllowed(site, options.origin)) {
        results[index] = rejected(
          index,
          receiptId,
          problemBody(
            403,
            'origin-not-allowed',
            `Origin ${options.origin.origin ?? '(none)'} may not send receipts for site ${site.id}`,
          ),
        );
        return;
      }
      valid.push({ index, receipt, canonical: canonicalJson(receipt) });
    });
    const [onlySite] = unknownSites;
    // Every item, not every result: a valid item has none yet, and `every` skips the holes (a batch with one
    // receipt of an unknown site was refused whole, its valid receipts with it, again at every retry).
    if (
      onlySite !== undefined &&
      unknownSites.size === 1 &&
      items.every((_, i) => results[i]?.status === 404)
    )
      throw new HttpProblem(404, 'unknown-site', `No site ${onlySite} on this server`);

    // The first item of an id is committed; later items of the same id in the batch answer like a retry would.
    const firstById = new Map<string, Valid>();
    for (const v of valid) if (!firstById.has(v.receipt.receiptId)) firstById.set(v.receipt.receiptId, v);
    const { rows, inserted } =
      firstById.size > 0
        ? await commit([...firstById.values()])
        : { rows: new Map(), inserted: new Set<string>() };

    for (const v of valid) {
      const id = v.receipt.receiptId;
      const row = rows.get(id) as ReceiptRow;
      const fresh = firstById.get(id) === v && inserted.has(id);
      // A row this item inserted was built from it; any other must be checked against it.
      if (!fresh && storedReceiptCanonical(row) !== v.canonical) {
        results[v.index] = rejected(
          v.index,
          id,
          problemBody(422, 'receipt-conflict', `Receipt ${id} was already stored with another body`),
        );
        continue;
      }
      const signed: SignedReceipt = signedReceiptOf(row);
      results[v.index] = {
        index: v.index,
        receiptId: id,
        status: fresh ? 201 : 200,
        outcome: fresh ? 'stored' : 'duplicate',
        signed,
      };
    }
    return results as ReceiptResult[];
  }

  return { record };
}

export type ReceiptRecorder = ReturnType<typeof createReceiptRecorder>;
