import type { ReceiptResult } from '../protocol/api.ts';
import type { ProblemDetails } from '../protocol/problem.ts';
import type { Receipt } from '../protocol/receipt.ts';

export type SendResult =
  | { ok: true; results: ReceiptResult[] }
  /** status 0: network failure. retryAfter in ms, from the Retry-After header. */
  | { ok: false; status: number; retryAfter: number | null; problem: ProblemDetails | null };

export type Send = (receipts: Receipt[], keepalive: boolean) => Promise<SendResult>;

/**
 * A request not answered within this long is a network failure: a dead connection (a mobile hand-over, a proxy
 * that swallows the request) never ends by itself, and the outbox holds its lock while it waits.
 */
export const TIMEOUT = 15_000;
/** No answer: refused by the browser, no network, or none within TIMEOUT. */
export const LOST: SendResult = { ok: false, status: 0, retryAfter: null, problem: null };

/** Retry-After as delay-seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function retryAfterMs(v: string | null, now: number): number | null {
  if (!v) return null;
  const ms = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isNaN(ms) ? null : Math.max(0, ms);
}

/** POST /v1/receipts once. Never throws and never retries: the outbox decides. */
export function createTransport(endpoint: string, f: typeof fetch, now: () => number): Send {
  return async (receipts, keepalive) => {
    try {
      const res = await f(`${endpoint}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ receipts }),
        keepalive,
        // Aborts the request and frees its connection (a browser without AbortSignal.timeout has the outbox's
        // own bound only).
        signal: AbortSignal.timeout?.(TIMEOUT),
      });
      const body = await res.json().catch(() => null);
      if (res.ok && Array.isArray(body?.results)) return { ok: true, results: body.results };
      return {
        ok: false,
        status: res.status,
        retryAfter: retryAfterMs(res.headers.get('retry-after'), now()),
        problem: body && typeof body === 'object' ? body : null,
      };
    } catch {
      return LOST;
    }
  };
}
