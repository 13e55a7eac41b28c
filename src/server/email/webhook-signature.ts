/**
 * @module
 * The `Assenso-Signature` header of webhook requests, in the shape Stripe made familiar:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The receiver recomputes the HMAC over the
 * raw body it received and refuses a timestamp older than its tolerance (replays).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Assenso-Signature';

/** The header value for a body sent at `now` (epoch ms). */
export function signWebhook(secret: string, body: string, now: number): string {
  const t = Math.floor(now / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Checks a received header against the raw body. Several `v1` values may be present (secret rotation): one
 * must match. `toleranceSeconds` (default 300) bounds the age of the timestamp.
 * @example
 * if (!verifyWebhookSignature(secret, rawBody, req.headers['assenso-signature'])) return res.writeHead(400).end();
 */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined | null,
  opts: { now?: number; toleranceSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const now = opts.now ?? Date.now();
  if (Math.abs(now / 1000 - t) > (opts.toleranceSeconds ?? 300)) return false;
  const wanted = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.some(([k, val]) => {
    if (k !== 'v1' || !val || !/^[0-9a-f]{64}$/.test(val)) return false;
    return timingSafeEqual(Buffer.from(val, 'hex'), wanted);
  });
}
