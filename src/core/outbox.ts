import type { SignedReceipt } from '../protocol/api.ts';
import { MAX_BATCH, MAX_BODY_BYTES } from '../protocol/limits.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { LOST, type Send, type SendResult, TIMEOUT } from './transport.ts';
import type { Clock, EventMap, KeyValueStore, ReceiptLog, RejectedReceipt } from './types.ts';

/** Backoff: full jitter over 1 s · 2^attempt, capped at 10 minutes (AWS "Exponential Backoff and Jitter"). */
const BASE = 1000;
const CAP = 600_000;
/** Signed receipts kept on the device (newest); older ones remain provable on the server. */
const KEEP = 100;
/**
 * Largest pagehide beacon: Chromium's 64 KiB keepalive budget is shared by every keepalive request of the page
 * in flight (analytics beacons on the same pagehide), and a body over what is left fails before it leaves.
 */
const BEACON_BYTES = 32 * 1024;
/** Largest flush sent as a keepalive request (a few receipts: one is about 1 kB). */
const SMALL = 8 * 1024;

export interface OutboxOptions {
  store: KeyValueStore;
  /** null: no endpoint configured, receipts stay on the device. */
  send: Send | null;
  clock: Clock;
  random: () => number;
  /** Web Locks name: one tab flushes at a time. */
  lock: string;
  emit<K extends keyof EventMap>(type: K, e: EventMap[K]): void;
  locks?: LockManager;
}

/** A stored list: its entries of ours only (a receipt, or a signed one), whatever else got in. */
const list = <T>(v: unknown): T[] =>
  Array.isArray(v) ? v.filter((x) => typeof (x?.receiptId ?? x?.receipt?.receiptId) === 'string') : [];
const bytes = (r: Receipt) => new TextEncoder().encode(JSON.stringify(r)).length + 1;

/**
 * The receipt outbox (IndexedDB). A receipt leaves the queue only when the server acknowledged its id
 * (stored or duplicate: kept as the signed copy) or refused it for good (kept in the rejected list).
 */
export function createOutbox(o: OutboxOptions) {
  const { store, clock } = o;
  let attempt = 0;
  let until = 0;
  let timer: unknown;
  let running: Promise<void> | null = null;
  /** A flush asked for while one runs: 1, or 2 when forced (`online`: it must not wait out that one's backoff). */
  let again = 0;
  /** A pass is queued behind another holder of the lock. */
  let waiting = false;
  let maxBatch = MAX_BATCH;
  let warned = false;
  /** The queue as last read: pagehide has no time to read IndexedDB. */
  let mem: Receipt[] = [];

  const take = (q: Receipt[], max = MAX_BODY_BYTES) => {
    const out: Receipt[] = [];
    let size = 16; // {"receipts":[]}
    for (const r of q) {
      size += bytes(r);
      if (out.length >= maxBatch || (out.length && size > max)) break;
      out.push(r);
    }
    return out;
  };

  const backoff = (retryAfter: number | null) => {
    // Retry-After is a lower bound over the jittered delay, and at least BASE: a "0" or a date already past (a
    // skewed clock) retried in a tight loop. CAP also keeps setTimeout in range: past 2^31-1 ms it fires at once.
    const delay = Math.min(
      CAP,
      Math.max(
        o.random() * Math.min(CAP, BASE * 2 ** attempt),
        retryAfter == null ? 0 : Math.max(BASE, retryAfter),
      ),
    );
    attempt++;
    until = clock.now() + delay;
    clock.clearTimeout(timer);
    // The timer ends the backoff itself: it may fire a fraction of a millisecond before `until` by the wall
    // clock (Chromium did, 29 times in 40), and that flush returned and nothing retried again.
    timer = clock.setTimeout(() => flush(true), delay);
  };

  /** Handles the answer to one batch; returns whether anything left the queue. */
  const settle = async (batch: Receipt[], res: Awaited<ReturnType<Send>>) => {
    if (!res.ok && res.status === 413) {
      // Too large: halve the batch; a single receipt that is too large can never be sent.
      if (batch.length > 1) {
        maxBatch = batch.length >> 1;
        return true;
      }
      res = {
        ok: true,
        results: [
          {
            index: 0,
            receiptId: batch[0]!.receiptId,
            status: 413,
            outcome: 'rejected',
            problem: res.problem ?? { type: 'about:blank', title: 'Payload Too Large', status: 413 },
          },
        ],
      };
    }
    if (!res.ok) {
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 && !warned) {
        warned = true;
        console.warn(
          `[assenso] receipt endpoint answered ${res.status}; receipts are kept and retried`,
          res.problem,
        );
      }
      o.emit('error', { where: 'outbox', error: res.problem ?? res.status });
      return false;
    }
    const acked: SignedReceipt[] = [];
    const rejected: RejectedReceipt[] = [];
    const done = new Set<string>();
    for (const r of res.results) {
      const rec = batch[r.index];
      if (!rec || (r.receiptId && r.receiptId !== rec.receiptId)) continue;
      if (r.outcome === 'rejected') {
        if (r.status >= 500 || r.status === 429) continue; // transient for this item: keep it
        rejected.push({ receipt: rec, problem: r.problem, at: clock.now() });
      } else acked.push(r.signed);
      done.add(rec.receiptId);
    }
    // Keep the proofs first, then drop from the queue: a crash in between only causes a duplicate send.
    if (acked.length)
      await store.update<SignedReceipt[]>('acked', (a) => {
        const ids = new Set(acked.map((s) => s.receipt.receiptId));
        return [...list<SignedReceipt>(a).filter((s) => !ids.has(s.receipt.receiptId)), ...acked].slice(
          -KEEP,
        );
      });
    if (rejected.length)
      await store.update<RejectedReceipt[]>('rejected', (a) => {
        const ids = new Set(rejected.map((r) => r.receipt.receiptId));
        return [...list<RejectedReceipt>(a).filter((r) => !ids.has(r.receipt.receiptId)), ...rejected];
      });
    // Told once: the pagehide beacon may go out while a flush of the same receipts is answered too.
    let queued = new Set<string>();
    await store.update<Receipt[]>('queue', (q) => {
      queued = new Set(list<Receipt>(q).map((r) => r.receiptId));
      mem = list<Receipt>(q).filter((r) => !done.has(r.receiptId));
      return mem;
    });
    for (const s of acked) if (queued.has(s.receipt.receiptId)) o.emit('acknowledged', s);
    for (const r of rejected.filter((r) => queued.has(r.receipt.receiptId))) {
      console.warn(
        `[assenso] receipt ${r.receipt.receiptId} was rejected and will not be resent:`,
        r.problem,
      );
      o.emit('rejected', r);
    }
    return done.size > 0;
  };

  const pass = async () => {
    for (;;) {
      mem = list(await store.get('queue'));
      const batch = take(mem);
      if (!batch.length) {
        attempt = 0;
        return;
      }
      // Keepalive only for a small batch (a decision or two): one made just before the visitor follows a link
      // still arrives, and its answer still sets the first-party cookie (a resend from pagehide sets none).
      // Not for a large one: a keepalive body shares Chromium's 64 KiB budget with the page's own keepalive
      // requests in flight (a full batch then failed before it left, and backed off).
      // A send that never ends holds the lock of every tab: after TIMEOUT it is a network failure, whatever
      // the Send (the transport aborts its fetch then too, where the browser can).
      let t: unknown;
      const res = await Promise.race([
        o.send!(batch, batch.reduce((n, r) => n + bytes(r), 16) <= SMALL),
        new Promise<SendResult>((ok) => {
          t = clock.setTimeout(() => ok(LOST), TIMEOUT);
        }),
      ]);
      clock.clearTimeout(t);
      if (!(await settle(batch, res))) return backoff(res.ok ? null : res.retryAfter);
      attempt = 0;
    }
  };

  /** Sends the queue. Waits for any backoff unless forced (`online`); one flush per tab, one tab at a time. */
  function flush(force = false): Promise<void> {
    if (!o.send || (!force && clock.now() < until)) return Promise.resolve();
    if (force) until = 0;
    if (running) {
      again = force ? 2 : again || 1;
      return running;
    }
    const locked = o.locks
      ? o.locks.request(o.lock, { ifAvailable: true }, (l) => {
          if (l) return pass();
          // Another tab is sending, or this tab's previous page still holds the lock while it unloads. It
          // re-reads the queue as it goes, but a receipt added after its last read (or one it will never
          // read) would wait for the next flush: one pass here once it is done.
          if (!waiting) {
            waiting = true;
            o.locks!.request(o.lock, () => (clock.now() < until ? undefined : pass()))
              .catch((error) => o.emit('error', { where: 'outbox', error }))
              .finally(() => {
                waiting = false;
              });
          }
        })
      : pass();
    running = locked
      .catch((error) => o.emit('error', { where: 'outbox', error }))
      .then(() => {
        running = null;
        if (again) {
          const forced = again > 1;
          again = 0;
          return flush(forced);
        }
      });
    return running;
  }

  return {
    /** Resolves once the receipt is stored in the outbox (before the UI may say "saved"). */
    async add(r: Receipt) {
      // Once per receipt id: a page that went before its decision left the list of receipts to make makes it
      // again on the next one (and another tab may make it at the same time).
      await store.update<Receipt[]>('queue', (q) => {
        const l = list<Receipt>(q);
        mem = l.some((x) => x.receiptId === r.receiptId) ? l : [...l, r];
        return mem;
      });
      o.emit('queued', r);
    },
    flush,
    /**
     * On pagehide: one keepalive request with what is queued (the oldest, up to BEACON_BYTES), even while a
     * flush is out: that one is no keepalive request and ends with the page. A failure backs nothing off: the
     * next flush sends them.
     */
    beacon() {
      const batch = take(mem, BEACON_BYTES);
      if (o.send && batch.length)
        o.send(batch, true).then(
          (res) => settle(batch, res),
          () => {},
        );
    },
    async log(): Promise<ReceiptLog> {
      return {
        acknowledged: list(await store.get('acked')),
        pending: list(await store.get('queue')),
        rejected: list(await store.get('rejected')),
      };
    },
    stop: () => clock.clearTimeout(timer),
  };
}
