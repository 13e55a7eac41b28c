/**
 * @module
 * The sequencer: gives each site's unsequenced receipts their leaf index, in (received_at, receipt_id) order,
 * appends them to the site's Merkle tree and publishes a signed checkpoint of the new head, all in one
 * transaction per site and batch. One sequencer runs at a time across every server instance: each transaction
 * first takes a PostgreSQL advisory lock with `pg_try_advisory_xact_lock`, and an instance that does not get
 * it leaves the work to the one that has it.
 */
import type { Db, Queryable } from '../db/db.ts';
import {
  type CheckpointRow,
  insertCheckpoint,
  latestCheckpoint,
  latestCheckpoints,
} from './checkpoints-repo.ts';
import { logOrigin, signCheckpoint } from './checkpoint.ts';
import { createFrontier, type StoredNode } from './frontier.ts';
import type { Metrics } from '../metrics.ts';
import type { Keyring } from './keys.ts';
import { assignLeafIndexes, pendingLeaves, sitesWithPendingLeaves } from './leaves-repo.ts';
import { frontierNodes, leafHash } from './merkle.ts';
import { findNodes, insertNodes, nodeKey } from './nodes-repo.ts';

/** Advisory lock key of the sequencer (the migrator uses 727_001). */
export const SEQUENCER_LOCK = 727_002;

export interface SequencerOptions {
  db: Db;
  keyring: Keyring;
  /** Server clock, epoch ms. */
  now?: () => number;
  /** Pause between runs, in ms (default 1000). 0: no timer, call `runOnce()` yourself. */
  intervalMs?: number;
  /** Most leaves appended per site in one transaction (default 5000); a run loops until none are left. */
  batchSize?: number;
  /**
   * Re-sign an unchanged head when its checkpoint is older than this, in ms (default one hour; 0: never), so
   * that a quiet log still shows it is alive. Checked at most once a minute.
   */
  refreshAfterMs?: number;
  /** The log origin of a site (checkpoint first line and note key name). Default `logOrigin(siteId)`. */
  origin?: (siteId: string) => string;
  /** Where a failed timed run is reported (a run that throws is retried on the next tick). */
  onError?: (err: unknown) => void;
  /**
   * Prometheus registry: `assenso_log_runs_total{outcome}` (ok, skipped: another instance holds the lock,
   * failed), `assenso_log_leaves_total{site}`, `assenso_log_checkpoints_total{site}`.
   */
  metrics?: Metrics;
}

export interface SiteRun {
  siteId: string;
  /** Leaves appended in this run. */
  appended: number;
  treeSize: number;
  /** Whether a checkpoint was published (the tree grew, or an old head was refreshed). */
  checkpoint: boolean;
}

export interface RunResult {
  /** False when another instance held the sequencer lock: nothing was done here. */
  locked: boolean;
  sites: SiteRun[];
}

export interface Sequencer {
  /** Sequences everything pending now and publishes checkpoints; resolves when committed. */
  runOnce(): Promise<RunResult>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Starts the sequencer: one run every `intervalMs` (none when 0), each run after the previous one ends.
 *
 * @example
 * const sequencer = startSequencer({ db, keyring, now: Date.now, intervalMs: 1000 });
 * // on shutdown
 * await sequencer.stop();
 */
export function startSequencer(options: SequencerOptions): Sequencer {
  const run = createRun(options);
  const intervalMs = options.intervalMs ?? 1000;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const metrics = options.metrics && {
    runs: options.metrics.counter(
      'assenso_log_runs_total',
      'Sequencer runs, by outcome (ok, skipped, failed).',
    ),
    leaves: options.metrics.counter('assenso_log_leaves_total', 'Receipts appended to the log, by site.'),
    checkpoints: options.metrics.counter('assenso_log_checkpoints_total', 'Checkpoints published, by site.'),
  };
  const counted = async (): Promise<RunResult> => {
    try {
      const result = await run();
      metrics?.runs.inc({ outcome: result.locked ? 'ok' : 'skipped' });
      for (const site of result.sites) {
        if (site.appended > 0) metrics?.leaves.inc({ site: site.siteId }, site.appended);
        if (site.checkpoint) metrics?.checkpoints.inc({ site: site.siteId });
      }
      return result;
    } catch (err) {
      metrics?.runs.inc({ outcome: 'failed' });
      throw err;
    }
  };

  // Runs never overlap inside one process: a manual runOnce waits for the timed one and vice versa.
  const runOnce = (): Promise<RunResult> => {
    const next = chain.then(counted);
    chain = next.catch(() => {});
    return next;
  };
  const tick = () => {
    runOnce()
      .catch((err) => options.onError?.(err))
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, intervalMs);
    // The sequencer alone must not keep a process (a CLI command, a test) alive.
    timer.unref();
  };
  if (intervalMs > 0) schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await chain;
    },
  };
}

function createRun(options: SequencerOptions): () => Promise<RunResult> {
  const { db, keyring } = options;
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 5000;
  const refreshAfterMs = options.refreshAfterMs ?? 3_600_000;
  const origin = options.origin ?? ((siteId: string) => logOrigin(siteId));
  let lastRefreshCheck = Number.NEGATIVE_INFINITY;

  /** One transaction: append up to `batchSize` leaves of one site and publish its checkpoint. */
  const sequenceBatch = (siteId: string, refresh: boolean) =>
    db.transaction(async (tx): Promise<SiteRun | 'not-locked'> => {
      const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        SEQUENCER_LOCK,
      ]);
      if (!lock.rows[0]?.ok) return 'not-locked';
      const head = await latestCheckpoint(tx, siteId);
      const size = head?.treeSize ?? 0;
      const leaves = await pendingLeaves(tx, siteId, batchSize);
      if (leaves.length === 0 && !(refresh && head))
        return { siteId, appended: 0, treeSize: size, checkpoint: false };

      const frontier = await loadFrontier(tx, siteId, size);
      const made: StoredNode[] = [];
      for (const [i, leaf] of leaves.entries()) {
        made.push(
          ...frontier.append(
            leaf.leafHash !== null ? Buffer.from(leaf.leafHash, 'hex') : leafHash(leaf.entry ?? ''),
          ),
        );
        // Thousands of leaves a second under load: requests are answered between slices of the work.
        if (i % 512 === 511) await new Promise((r) => setImmediate(r));
      }
      await insertNodes(tx, siteId, made);
      await assignLeafIndexes(
        tx,
        siteId,
        leaves.map((l) => l.receiptId),
        size,
      );
      // Checkpoint times never go backwards, even if the clock does.
      await publish(tx, siteId, frontier.size, frontier.root(), Math.max(now(), head?.createdAt ?? 0));
      return { siteId, appended: leaves.length, treeSize: frontier.size, checkpoint: true };
    });

  const publish = async (
    tx: Queryable,
    siteId: string,
    treeSize: number,
    root: Uint8Array,
    timestamp: number,
  ) => {
    const signed = signCheckpoint({ origin: origin(siteId), treeSize, root, timestamp }, keyring);
    const row: CheckpointRow = {
      siteId,
      treeSize,
      rootHash: Buffer.from(root).toString('hex'),
      createdAt: signed.timestamp,
      origin: signed.origin,
      kid: signed.kid,
      sig: signed.sig,
      note: signed.note,
    };
    await insertCheckpoint(tx, row);
  };

  return async () => {
    const sites = new Map<string, boolean>();
    for (const siteId of await sitesWithPendingLeaves(db)) sites.set(siteId, false);
    if (refreshAfterMs > 0 && now() - lastRefreshCheck >= 60_000) {
      lastRefreshCheck = now();
      for (const head of await latestCheckpoints(db))
        if (now() - head.createdAt >= refreshAfterMs) sites.set(head.siteId, true);
    }
    const result: RunResult = { locked: true, sites: [] };
    for (const [siteId, refresh] of sites) {
      const total: SiteRun = { siteId, appended: 0, treeSize: 0, checkpoint: false };
      for (let again = true, first = true; again; first = false) {
        const batch = await sequenceBatch(siteId, refresh && first);
        if (batch === 'not-locked') return { locked: false, sites: result.sites };
        total.appended += batch.appended;
        total.treeSize = batch.treeSize;
        total.checkpoint ||= batch.checkpoint;
        again = batch.appended === batchSize;
      }
      result.sites.push(total);
    }
    return result;
  };
}

/** The frontier of a stored tree of `size` leaves, from its O(log n) stored perfect subtrees. */
async function loadFrontier(q: Queryable, siteId: string, size: number) {
  const ids = frontierNodes(size);
  const found = await findNodes(q, siteId, ids);
  const hashes = ids.map((id) => {
    const hash = found.get(nodeKey(id));
    if (!hash) throw new Error(`log of ${siteId}: node ${nodeKey(id)} of the head (size ${size}) is missing`);
    return hash;
  });
  return createFrontier(size, hashes);
}
