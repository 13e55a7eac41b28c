/**
 * @module
 * Derives the per-device current state from receipts: one row per choice, plus one naming the latest receipt.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import type { ChoiceItem, DeviceChoiceRow, ReceiptChoices } from '../db/receipts-repo.ts';
import { receiptExpiries } from './consent-lifetime.ts';
import { boundedAt } from './device-clock.ts';

/**
 * The choices a receipt received at `receivedAt` contributes, without what every one of them shares (the
 * receipt's own fields). Each choice lasts until its own entry in `expiries` (a category's, a service's, a
 * purpose's), else the receipt's `expiresAt` (receipts made before the widget recorded every choice's expiry
 * have none for services nor for the required category), as the server counts it (consent-lifetime.ts): moved
 * back by as much as the device's clock was ahead of the server's, and never more than the longest lifetime
 * after the receipt's time. These become `device_consent.expires_at`, so the stored state is bounded too: a
 * receipt that names a 100-year expiry never makes the device's consent last longer than 13 months.
 */
export function choiceItemsOf(receipt: Receipt, receivedAt: number): ChoiceItem[] {
  if (!receipt.deviceId) return [];
  const expiry = receiptExpiries(receipt, receivedAt);
  const items: ChoiceItem[] = [{ kind: 'receipt', itemId: '', granted: true, expiresAt: expiry.expiresAt }];
  for (const [id, granted] of Object.entries(receipt.categories))
    items.push({ kind: 'category', itemId: id, granted, expiresAt: expiry.of('category', id) });
  for (const [id, granted] of Object.entries(receipt.services))
    items.push({ kind: 'service', itemId: id, granted, expiresAt: expiry.of('service', id) });
  for (const [purpose, channels] of Object.entries(receipt.preferences ?? {}))
    for (const [channel, granted] of Object.entries(channels))
      items.push({
        kind: 'preference',
        itemId: `${purpose}.${channel}`,
        granted,
        expiresAt: expiry.of('preference', purpose),
      });
  return items;
}

/** What a receipt received at `receivedAt` adds to its device's state (`insertReceiptsWithChoices`). */
export const receiptChoicesOf = (receipt: Receipt, receivedAt: number): ReceiptChoices => ({
  revision: receipt.revision,
  previousReceiptId: receipt.previousReceiptId,
  boundedAt: boundedAt(receipt.collectedAt, receivedAt),
  choices: choiceItemsOf(receipt, receivedAt),
});

/**
 * The `decision` of GET /v1/consent from a device's rows (before the expiry rule: services/consent-expiry.ts);
 * null when the device has no receipt. Each row is the device's newest choice of its item, and counts only when
 * it was made under the policy revision of the device's latest receipt (the decision's `revision`): a choice
 * made under another revision answers a notice the site no longer shows, so it is left out, neither granted
 * nor refused, and the widget asks about it again (docs/protocol.md, "GET /v1/consent").
 */
export function decisionOf(rows: readonly DeviceChoiceRow[]): ConsentStateResponse['decision'] {
  const latest = rows.find((r) => r.kind === 'receipt');
  if (!latest) return null;
  const categories: Record<string, boolean> = {};
  const services: Record<string, boolean> = {};
  const updatedAt: Record<string, number> = {};
  const expiries: Record<string, number> = {};
  for (const r of rows) {
    if (r.revision !== latest.revision) continue;
    if (r.kind === 'category') {
      categories[r.itemId] = r.granted;
      updatedAt[r.itemId] = r.receivedAt;
      expiries[r.itemId] = r.expiresAt;
    } else if (r.kind === 'service') {
      services[r.itemId] = r.granted;
      expiries[r.itemId] = r.expiresAt;
    }
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
    expiries,
  };
}
