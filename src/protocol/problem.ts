/**
 * RFC 9457 problem details, shared by the server (which answers with them) and the widget (which reads them).
 * `type` is a stable URI per error; clients switch on it, never on `title` or `detail`.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Validation issues, as `path: message`. */
  errors?: string[];
  [extension: string]: unknown;
}

const BASE = 'https://assenso.dev/problems/';

/** Every error the API can answer with. The key is the code; the value its `type` URI. */
export const PROBLEM_TYPES = {
  'malformed-json': `${BASE}malformed-json`,
  'invalid-request': `${BASE}invalid-request`,
  'invalid-receipt': `${BASE}invalid-receipt`,
  'receipt-conflict': `${BASE}receipt-conflict`,
  'unknown-site': `${BASE}unknown-site`,
  'origin-not-allowed': `${BASE}origin-not-allowed`,
  'payload-too-large': `${BASE}payload-too-large`,
  'unsupported-media-type': `${BASE}unsupported-media-type`,
  'rate-limited': `${BASE}rate-limited`,
  unauthorized: `${BASE}unauthorized`,
  forbidden: `${BASE}forbidden`,
  'invalid-token': `${BASE}invalid-token`,
  'token-expired': `${BASE}token-expired`,
  'token-replayed': `${BASE}token-replayed`,
  // Identity tokens (POST /v1/identify): one type per reason, so a site's developer sees which check failed.
  'token-malformed': `${BASE}token-malformed`,
  'token-algorithm': `${BASE}token-algorithm`,
  'token-unknown-key': `${BASE}token-unknown-key`,
  'token-bad-signature': `${BASE}token-bad-signature`,
  'token-wrong-audience': `${BASE}token-wrong-audience`,
  'token-lifetime': `${BASE}token-lifetime`,
  'token-claims': `${BASE}token-claims`,
  'pairing-code-invalid': `${BASE}pairing-code-invalid`,
  // Email-link tokens (/p/<token>, /u/<token>): invalid-token and token-expired above, plus these.
  'token-wrong-action': `${BASE}token-wrong-action`,
  'token-wrong-site': `${BASE}token-wrong-site`,
  'token-key-revoked': `${BASE}token-key-revoked`,
  'not-found': `${BASE}not-found`,
  'method-not-allowed': `${BASE}method-not-allowed`,
  conflict: `${BASE}conflict`,
  internal: `${BASE}internal`,
  unavailable: `${BASE}unavailable`,
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;
