import type { Context } from 'hono';
import { PROBLEM_TYPES, type ProblemCode, type ProblemDetails } from '../protocol/problem.ts';

const TITLES: Record<ProblemCode, string> = {
  'malformed-json': 'Malformed JSON',
  'invalid-request': 'Invalid request',
  'invalid-receipt': 'Invalid receipt',
  'receipt-conflict': 'Receipt id already used for another receipt',
  'unknown-site': 'Unknown site',
  'origin-not-allowed': 'Origin not allowed',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'rate-limited': 'Too many requests',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'invalid-token': 'Invalid token',
  'token-expired': 'Token expired',
  'token-replayed': 'Token already used',
  'token-malformed': 'Token is not a JWT',
  'token-algorithm': 'Token algorithm not accepted',
  'token-unknown-key': 'Token key id unknown',
  'token-bad-signature': 'Token signature invalid',
  'token-wrong-audience': 'Token is for another site',
  'token-lifetime': 'Token lives too long',
  'token-claims': 'Token claims missing or invalid',
  'pairing-code-invalid': 'Pairing code unknown, expired or used',
  'token-wrong-action': 'Link is for another action',
  'token-wrong-site': 'Link is for another site',
  'token-key-revoked': 'Link revoked',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'Conflict',
  internal: 'Internal server error',
  unavailable: 'Service unavailable',
};

/**
 * An error a service or route throws on purpose: it becomes an RFC 9457 problem+json answer in `onError`.
 * Anything else thrown is logged and answered with a bare 500 that reveals nothing.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? TITLES[code]);
    this.name = 'HttpProblem';
  }

  toJSON(): ProblemDetails {
    return {
      type: PROBLEM_TYPES[this.code],
      title: TITLES[this.code],
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...this.extra,
    };
  }
}

/** Builds a problem body without throwing (for per-item results in a batch). */
export function problemBody(
  status: number,
  code: ProblemCode,
  detail?: string,
  extra?: Record<string, unknown>,
) {
  return new HttpProblem(status, code, detail, extra).toJSON();
}

/** Sends a problem+json answer. */
export function problemResponse(c: Context, problem: HttpProblem): Response {
  const body = { ...problem.toJSON(), instance: new URL(c.req.url).pathname };
  for (const [k, val] of Object.entries(problem.headers)) c.header(k, val);
  c.header('Content-Type', 'application/problem+json');
  c.header('Cache-Control', 'no-store');
  return c.body(JSON.stringify(body), problem.status as 400);
}
