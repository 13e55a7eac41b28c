/**
 * @module
 * Derives the per-device current state from receipts: one row per choice, plus one naming the latest receipt.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import type { ChoiceItem, DeviceChoiceRow } from '../db/receipts-repo.ts';

/** The choices a receipt contributes, without what every one of them shares (the receipt's own fields). */
export function choiceItemsOf(receipt: Receipt): ChoiceItem[] {
  if (!receipt.deviceId) return [];
  const { expiresAt, expiries } = receipt;
  const items: ChoiceItem[] = [{ kind: 'receipt', itemId: '', granted: true, expiresAt }];
  for (const [id, granted] of Object.entries(receipt.categories))
    items.push({ kind: 'category', itemId: id, granted, expiresAt: expiries?.[id] ?? expiresAt });
  for (const [id, granted] of Object.entries(receipt.services))
    items.push({ kind: 'service', itemId: id, granted, expiresAt });
  for (const [purpose, channels] of Object.entries(receipt.preferences ?? {}))
    for (const [channel, granted] of Object.entries(channels))
      items.push({
        kind: 'preference',
        itemId: `${purpose}.${channel}`,
        granted,
        expiresAt: expiries?.[purpose] ?? expiresAt,
      });
  return items;
}

/** The choice rows a receipt contributes (none when it was not made on a device). */
export function choicesOf(receipt: Receipt, receivedAt: number): DeviceChoiceRow[] {
  const { siteId, deviceId, receiptId, revision, method, collectedAt } = receipt;
  if (!deviceId) return [];
  // Each row a literal of its own: spreading a shared base into each one cost ~50x more (ingest hot path).
  return choiceItemsOf(receipt).map((c) => ({
    siteId,
    deviceId,
    receiptId,
    revision,
    method,
    collectedAt,
    receivedAt,
    kind: c.kind,
    itemId: c.itemId,
    granted: c.granted,
    expiresAt: c.expiresAt,
  }));
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
