/**
 * What is needed only once a decision is made or receipts are pending (receipts, outbox, transport), the
 * revocation clean-up of cookies and storage, and the wording of configuration warnings: loaded with a
 * dynamic import when the browser is idle after start-up (a separate chunk in module builds), so it does not
 * weigh on the time to banner.
 */
export { clearServiceData } from './clear.ts';
export { explain } from './config-fixes.ts';
export { createOutbox } from './outbox.ts';
export { buildReceipt, defaultNotice } from './receipt.ts';
export { createTransport } from './transport.ts';
