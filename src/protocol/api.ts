import * as v from 'valibot';
import type { ProblemDetails } from './problem.ts';
import type { Receipt } from './receipt.ts';

import { MAX_BATCH } from './limits.ts';

export { MAX_BATCH, MAX_BODY_BYTES } from './limits.ts';

/**
 * POST /v1/receipts body. Items are validated one by one after the envelope, so that one bad receipt is
 * answered on its own and does not block the others.
 */
export const BatchEnvelopeSchema = v.strictObject({
  receipts: v.pipe(v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_BATCH)),
});

/** The server's signature of a stored receipt. */
export interface ReceiptSignature {
  alg: 'Ed25519';
  /** Key id: the first 16 hex digits of SHA-256 of the raw public key. Keys are published at GET /v1/keys. */
  kid: string;
  /** Base64url signature over the leaf's canonical JSON (see docs/protocol.md). */
  sig: string;
}

/**
 * What the server makes of a receipt when it commits it: the leaf of the site's append-only log.
 * As in Certificate Transparency (RFC 6962/9162), the answer carries a signed promise at once; the sequencer
 * gives the leaf its index within the maximum merge delay (60 s) and publishes signed checkpoints.
 */
export interface ReceiptEntry {
  receipt: Receipt;
  /** Server clock at commit (epoch ms): the time that counts. */
  receivedAt: number;
}

/** A stored receipt as handed back to the device: the proof a visitor can download. */
export interface SignedReceipt extends ReceiptEntry {
  /** Hex SHA-256 of the RFC 9162 leaf: 0x00 || canonical JSON of the ReceiptEntry. */
  leafHash: string;
  /** Server signature over the canonical JSON of the ReceiptEntry. */
  signature: ReceiptSignature;
  /** Index of the leaf in the site's log, once sequenced (GET /v1/receipts/:id/proof gives it with its proof). */
  leafIndex?: number;
}

export type ReceiptResult =
  | {
      index: number;
      receiptId: string;
      status: 201 | 200;
      outcome: 'stored' | 'duplicate';
      signed: SignedReceipt;
    }
  | { index: number; receiptId: string | null; status: number; outcome: 'rejected'; problem: ProblemDetails };

/** POST /v1/receipts answer (HTTP 200 when the envelope was valid; each item carries its own status). */
export interface BatchResponse {
  results: ReceiptResult[];
}

/** GET /v1/consent?site=&device= answer. */
export interface ConsentStateResponse {
  siteId: string;
  deviceId: string;
  /** Pseudonymous subject the device is linked to, if any (identity linking). */
  subjectId: string | null;
  /**
   * The latest known decision, merged per category and service (the newest choice of each, counted only when
   * made under `revision`: a choice of an older revision is absent, unanswered); null when none. A grant whose
   * expiry has passed reads `false` in `categories`/`services` and is listed in `expired` (docs/protocol.md).
   */
  decision: {
    revision: string;
    method: string;
    receiptId: string;
    decidedAt: number;
    receivedAt: number;
    /** The earliest expiry of the choices below (already passed when something has expired). */
    expiresAt: number;
    categories: Record<string, boolean>;
    services: Record<string, boolean>;
    /** Per-category server time of the receipt each choice came from. */
    updatedAt: Record<string, number>;
    /** When each choice expires, by category or service id (older servers omit it). */
    expiries?: Record<string, number>;
    /** Grants that have expired and now count as denied, by category or service id: when they expired. */
    expired?: Record<string, number>;
  } | null;
}
