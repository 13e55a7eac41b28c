export type {
  BatchResponse,
  ConsentStateResponse,
  ReceiptEntry,
  ReceiptResult,
  ReceiptSignature,
  SignedReceipt,
} from './api.ts';
export { BatchEnvelopeSchema, MAX_BATCH, MAX_BODY_BYTES } from './api.ts';
export { canonicalJson, sha256Hex, toHex } from './canonical.ts';
export type { Channel, Method } from './ids.ts';
export {
  CHANNELS,
  DEVICE_ID_PATTERN,
  ITEM_ID_PATTERN,
  METHODS,
  NOTICE_HASH_PATTERN,
  RECEIPT_ID_PATTERN,
  SITE_ID_PATTERN,
} from './ids.ts';
export type {
  CheckpointResponse,
  ConsistencyProofResponse,
  ReceiptProofPending,
  ReceiptProofResponse,
} from './log.ts';
export type { NoticeCategory, NoticePurpose, NoticeService, NoticeSnapshot } from './notice.ts';
export { noticeHash } from './notice.ts';
export type { ProblemCode, ProblemDetails } from './problem.ts';
export { PROBLEM_TYPES } from './problem.ts';
export type { Receipt } from './receipt.ts';
export { DeviceIdSchema, parseReceipt, ReceiptIdSchema, ReceiptSchema, SiteIdSchema } from './receipt.ts';
export { API_VERSION, RECEIPT_SCHEMA } from './version.ts';
