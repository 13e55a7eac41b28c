/**
 * @module
 * Derives the per-device current state from receipts: one row per choice, plus one naming the latest receipt.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import type { DeviceChoiceRow } from '../db/receipts-repo.ts';

/** The choice rows a receipt contributes (none when it was not made on a device). */
export function choicesOf(receipt: Receipt, receivedAt: number): DeviceChoiceRow[] {
  const { siteId, deviceId, receiptId, revision, method, collectedAt } = receipt;
  if (!deviceId) return [];
  // Each row a literal of its own: spreading a shared base into each one cost ~50x more (ingest hot path).
  const row = (
    kind: DeviceChoiceRow['kind'],
    itemId: string,
    granted: boolean,
    expiresAt: number,
  ): DeviceChoiceRow => ({
    siteId,
    deviceId,
    receiptId,
    revision,
    method,
    collectedAt,
    receivedAt,
    kind,
    itemId,
    granted,
    expiresAt,
  });
  const expiry = (id: string) => receipt.expiries?.[id] ?? receipt.expiresAt;
  const rows: DeviceChoiceRow[] = [row('receipt', '', true, receipt.expiresAt)];
  for (const [id, granted] of Object.entries(receipt.categories))
    rows.push(row('category', id, granted, expiry(id)));
  for (const [id, granted] of Object.entries(receipt.services))
    rows.push(row('service', id, granted, receipt.expiresAt));
  for (const [purpose, channels] of Object.entries(receipt.preferences ?? {}))
    for (const [channel, granted] of Object.entries(channels))
      rows.push(row('preference', `${purpose}.${channel}`, granted, expiry(purpose)));
  return rows;
}

const keyOf = (r: DeviceChoiceRow) => `${r.siteId}\u0000${r.deviceId}\u0000${r.kind}\u0000${r.itemId}`;

/** Whether `a` was decided after `b` on the device: collected later, or collected together and received later. */
const isNewer = (a: DeviceChoiceRow, b: DeviceChoiceRow) =>
  a.collectedAt > b.collectedAt || (a.collectedAt === b.collectedAt && a.receivedAt >= b.receivedAt);

/** Keeps the newest row per key (a batch may carry several decisions of one device), sorted by key. */
export function newestPerKey(rows: readonly DeviceChoiceRow[]): DeviceChoiceRow[] {
  const best = new Map<string, DeviceChoiceRow>();
  for (const row of rows) {
    const key = keyOf(row);
    const current = best.get(key);
    if (!current || isNewer(row, current)) best.set(key, row);
  }
  return [...best.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** The `decision` of GET /v1/consent from a device's rows; null when the device has no receipt. */
export function decisionOf(rows: readonly DeviceChoiceRow[]): ConsentStateResponse['decision'] {
  const latest = rows.find((r) => r.kind === 'receipt');
  if (!latest) return null;
  const categories: Record<string, boolean> = {};
  const services: Record<string, boolean> = {};
  const updatedAt: Record<string, number> = {};
  for (const r of rows) {
    if (r.kind === 'category') {
      categories[r.itemId] = r.granted;
      updatedAt[r.itemId] = r.receivedAt;
    } else if (r.kind === 'service') services[r.itemId] = r.granted;
  }
  return {
    revision: latest.revision,
    method: latest.method,
    receiptId: latest.receiptId,
    decidedAt: latest.collectedAt,
    receivedAt: latest.receivedAt,
    expiresAt: latest.expiresAt,
    categories,
    services,
    updatedAt,
  };
}
