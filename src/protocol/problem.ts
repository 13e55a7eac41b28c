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
  'not-found': `${BASE}not-found`,
  'method-not-allowed': `${BASE}method-not-allowed`,
  conflict: `${BASE}conflict`,
  internal: `${BASE}internal`,
  unavailable: `${BASE}unavailable`,
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;
