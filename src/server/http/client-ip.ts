/**
 * @module
 * The client's IP address, the key for rate limits. `X-Forwarded-For` is believed only for `trustProxy`
 * hops: with N trusted proxies in front, the client is the N-th address from the right (the left part is
 * whatever the client itself sent, and can be forged).
 */
import type { Context } from 'hono';

interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/** Number of trusted proxies from the `trustProxy` setting. */
export function trustedHops(trustProxy: boolean | number): number {
  return trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
}

/** The socket's peer address on Node, or `unknown` (in-process `app.request` tests). */
export function socketAddress(c: Context): string {
  const env = c.env as NodeBindings | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

export function clientIp(c: Context, trustProxy: boolean | number): string {
  const hops = trustedHops(trustProxy);
  if (hops > 0) {
    const chain = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const ip = chain[chain.length - hops] ?? chain[0];
    if (ip) return ip;
  }
  return socketAddress(c);
}

/** The host the client asked for: `X-Forwarded-Host` behind a trusted proxy, else `Host`. */
export function requestHost(c: Context, trustProxy: boolean | number): string {
  const forwarded = trustedHops(trustProxy) > 0 ? c.req.header('x-forwarded-host') : undefined;
  return (forwarded?.split(',')[0]?.trim() || c.req.header('host') || new URL(c.req.url).host).toLowerCase();
}
