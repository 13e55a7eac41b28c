/**
 * What is needed only once a decision is made or receipts are pending (receipts, outbox, transport), and
 * the wording of configuration warnings: loaded with a dynamic import after
 * start-up (a separate chunk in module builds), so it does not weigh on the time to banner.
 */
export { explain } from './config-fixes.ts';
export { createOutbox } from './outbox.ts';
export { buildReceipt, defaultNotice } from './receipt.ts';
export { createTransport } from './transport.ts';
