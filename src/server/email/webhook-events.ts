/**
 * @module
 * The events a site's webhooks receive, queued inside the transaction that made the change (outbox pattern:
 * no change without its event, no event without its change). Every event carries the person's full current
 * preferences, so a receiver that missed one still converges on the next.
 */
import { randomUUID } from 'node:crypto';
import type { SignedReceipt } from '../../protocol/api.ts';
import type { Queryable } from '../db/db.ts';
import type { EmailSite } from './config-schema.ts';
import type { PreferenceRow } from './preferences-repo.ts';
import { enqueueDeliveries } from './webhooks-repo.ts';

export type WebhookEventType = 'preferences.changed' | 'subject.erased';

/** The JSON body POSTed to a webhook. */
export interface WebhookEvent {
  /** Unique per event (the same on every retry): the receiver's deduplication key. */
  id: string;
  type: WebhookEventType;
  /** Epoch ms. */
  createdAt: number;
  siteId: string;
  /** The person's pseudonymous id (the same the links and the admin API use). */
  subjectId: string;
  /** purpose → channel → { granted (false once expired), expiresAt }. */
  preferences: Record<string, Record<string, { granted: boolean; expiresAt: number }>>;
  /** The receipt that made the change (preferences.changed). */
  receipt?: SignedReceipt;
}

/** Current preferences in the event shape (expired grants count as denied). */
export function preferencesPayload(rows: readonly PreferenceRow[], now: number): WebhookEvent['preferences'] {
  const out: WebhookEvent['preferences'] = {};
  for (const r of rows) {
    out[r.purpose] ??= {};
    out[r.purpose]![r.channel] = { granted: r.granted && r.expiresAt > now, expiresAt: r.expiresAt };
  }
  return out;
}

/** Queues an event for every webhook of the site (nothing when it has none). Caller holds the subject's lock. */
export async function queueWebhookEvent(
  tx: Queryable,
  site: EmailSite,
  event: Omit<WebhookEvent, 'id' | 'createdAt' | 'siteId'>,
  now: number,
): Promise<string | null> {
  if (site.webhooks.length === 0) return null;
  const full: WebhookEvent = { id: randomUUID(), createdAt: now, siteId: site.id, ...event };
  await enqueueDeliveries(
    tx,
    { eventId: full.id, siteId: site.id, subjectId: event.subjectId, payload: JSON.stringify(full), now },
    site.webhooks.map((w) => w.url),
  );
  return full.id;
}
