/**
 * What is needed only once a decision exists or receipts are pending: loaded with a dynamic import after
 * start-up (a separate chunk in module builds), so it does not weigh on the time to banner.
 */
export { clearServiceData } from './clear.ts';
export { createOutbox } from './outbox.ts';
export { buildReceipt, defaultNotice } from './receipt.ts';
export { createTransport } from './transport.ts';
