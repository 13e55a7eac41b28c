/**
 * @module
 * Derives the per-device current state from receipts: one row per choice, plus one naming the latest receipt.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import type { ChoiceItem, DeviceChoiceRow, ReceiptChoices } from '../db/receipts-repo.ts';
import { boundedAt, boundedExpiry } from './device-clock.ts';

/**
 * The choices a receipt received at `receivedAt` contributes, without what every one of them shares (the
 * receipt's own fields). Expiries are the device's, moved back by as much as its clock was ahead of the
 * server's (device-clock.ts): a wrong clock never makes consent last longer.
 */
export function choiceItemsOf(receipt: Receipt, receivedAt: number): ChoiceItem[] {
  if (!receipt.deviceId) return [];
  const { collectedAt, expiries } = receipt;
  const bound = (expiry: number) => boundedExpiry(expiry, collectedAt, receivedAt);
  const expiresAt = bound(receipt.expiresAt);
  const items: ChoiceItem[] = [{ kind: 'receipt', itemId: '', granted: true, expiresAt }];
  for (const [id, granted] of Object.entries(receipt.categories)) {
    const own = expiries?.[id];
    items.push({
      kind: 'category',
      itemId: id,
      granted,
      expiresAt: own === undefined ? expiresAt : bound(own),
    });
  }
  for (const [id, granted] of Object.entries(receipt.services))
    items.push({ kind: 'service', itemId: id, granted, expiresAt });
  for (const [purpose, channels] of Object.entries(receipt.preferences ?? {})) {
    const own = expiries?.[purpose];
    for (const [channel, granted] of Object.entries(channels))
      items.push({
        kind: 'preference',
        itemId: `${purpose}.${channel}`,
        granted,
        expiresAt: own === undefined ? expiresAt : bound(own),
      });
  }
  return items;
}

/** What a receipt received at `receivedAt` adds to its device's state (`insertReceiptsWithChoices`). */
export const receiptChoicesOf = (receipt: Receipt, receivedAt: number): ReceiptChoices => ({
  revision: receipt.revision,
  previousReceiptId: receipt.previousReceiptId,
  boundedAt: boundedAt(receipt.collectedAt, receivedAt),
  choices: choiceItemsOf(receipt, receivedAt),
});

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
