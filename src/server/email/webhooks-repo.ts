/**
 * @module
 * SQL for the webhook queue (`webhook_deliveries`, 004-email.sql): one row per event and endpoint.
 * Per (endpoint, subject), rows are delivered in `seq` order: a row is claimable only when no earlier row of
 * the same subject and endpoint is still pending. A claim is a lease (`lease_until`), taken with
 * `FOR UPDATE SKIP LOCKED`, so several workers on several instances share the queue without a long transaction.
 */
import type { Queryable } from '../db/db.ts';

export interface DeliveryRow {
  seq: number;
  eventId: string;
  siteId: string;
  endpoint: string;
  subjectId: string;
  payload: string;
  attempts: number;
}

export interface DeliveryStatus extends DeliveryRow {
  state: 'pending' | 'delivered' | 'dead';
  createdAt: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

/** Queues an event for each endpoint (inside the transaction that made the change, under the subject's lock). */
export async function enqueueDeliveries(
  tx: Queryable,
  event: { eventId: string; siteId: string; subjectId: string; payload: string; now: number },
  endpoints: readonly string[],
): Promise<void> {
  for (const endpoint of endpoints) {
    await tx.query(
      `INSERT INTO webhook_deliveries (event_id, site_id, endpoint, subject_id, payload, created_at, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (event_id, endpoint) DO NOTHING`,
      [event.eventId, event.siteId, endpoint, event.subjectId, event.payload, event.now],
    );
  }
}

interface RawDelivery {
  seq: number | string;
  event_id: string;
  site_id: string;
  endpoint: string;
  subject_id: string;
  payload: string;
  attempts: number;
}

const toDelivery = (r: RawDelivery): DeliveryRow => ({
  seq: Number(r.seq),
  eventId: r.event_id,
  siteId: r.site_id,
  endpoint: r.endpoint,
  subjectId: r.subject_id,
  payload: r.payload,
  attempts: Number(r.attempts),
});

/** Leases up to `limit` due rows that are each the head of their (endpoint, subject) queue. */
export async function claimDeliveries(
  tx: Queryable,
  opts: { now: number; leaseMs: number; limit: number },
): Promise<DeliveryRow[]> {
  const { rows } = await tx.query<RawDelivery>(
    `UPDATE webhook_deliveries SET lease_until = $2
     WHERE seq IN (
       SELECT d.seq FROM webhook_deliveries d
       WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
         AND NOT EXISTS (
           SELECT 1 FROM webhook_deliveries e
           WHERE e.endpoint = d.endpoint AND e.subject_id = d.subject_id AND e.state = 'pending' AND e.seq < d.seq)
       ORDER BY d.next_attempt_at, d.seq
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
     RETURNING seq, event_id, site_id, endpoint, subject_id, payload, attempts`,
    [opts.now, opts.now + opts.leaseMs, opts.limit],
  );
  return rows.map(toDelivery).sort((a, b) => a.seq - b.seq);
}

export async function markDelivered(q: Queryable, seq: number, now: number, status: number): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $2, attempts = attempts + 1,
       last_status = $3, last_error = NULL, lease_until = NULL WHERE seq = $1`,
    [seq, now, status],
  );
}

/** Records a failed attempt: retry at `retryAt`, or give up (`dead`) so the subject's later events can flow. */
export async function markFailed(
  q: Queryable,
  seq: number,
  failure: { status: number | null; error: string; retryAt: number | null },
): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3, lease_until = NULL,
       state = CASE WHEN $4::bigint IS NULL THEN 'dead' ELSE state END,
       next_attempt_at = COALESCE($4::bigint, next_attempt_at) WHERE seq = $1`,
    [seq, failure.status, failure.error.slice(0, 500), failure.retryAt],
  );
}

/** Deliveries of a site (newest first), for the admin API. */
export async function listDeliveries(
  q: Queryable,
  siteId: string,
  opts: { state?: string; limit: number },
): Promise<DeliveryStatus[]> {
  const { rows } = await q.query<
    RawDelivery & {
      state: DeliveryStatus['state'];
      created_at: number | string;
      next_attempt_at: number | string;
      last_status: number | null;
      last_error: string | null;
      delivered_at: number | string | null;
    }
  >(
    `SELECT seq, event_id, site_id, endpoint, subject_id, payload, attempts, state, created_at, next_attempt_at,
       last_status, last_error, delivered_at
     FROM webhook_deliveries WHERE site_id = $1 AND ($2::text IS NULL OR state = $2) ORDER BY seq DESC LIMIT $3`,
    [siteId, opts.state ?? null, opts.limit],
  );
  return rows.map((r) => ({
    ...toDelivery(r),
    state: r.state,
    createdAt: Number(r.created_at),
    nextAttemptAt: Number(r.next_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  }));
}
