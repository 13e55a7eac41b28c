/**
 * @module
 * First-party mode (Safari ITP): Safari deletes script-written storage of a site after 7 days without a visit,
 * but keeps cookies that the site's own server sets with `Set-Cookie`. When the receipt server is reached
 * under the site's own origin (a reverse-proxy path, docs/server.md), the receipts answer sets the consent
 * cookie itself, in the widget's mirror format (docs/cookie.md), so the decision survives.
 */
import type { ReceiptResult, SignedReceipt } from '../../protocol/api.ts';
import { ITEM_ID_PATTERN } from '../../protocol/ids.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import { findSite, type ServerConfig, type SiteConfig } from '../config.ts';
import type { Queryable } from '../db/db.ts';
import { latestDeviceReceiptId } from '../db/receipts-repo.ts';
import { receiptExpiries } from './consent-lifetime.ts';

/** The mirror format's version (`v=`), the widget's DECISION_FORMAT. */
export const COOKIE_FORMAT = 1;

/**
 * The cookie value for a receipt: `v=1&k=<siteId>&r=<revision>&t=<decidedAt>&x=<expiresAt>&m=<method>&id=<receiptId>
 * &d=<deviceId>&g=<0|1>&c=<category>:<0|1>[:<expiry>].…&s=<service>:<0|1>.…`. The widget lists in `s` only
 * services that differ from their category; the server does not know which category a service belongs to,
 * so it lists every service, which the widget reads the same way. Times are the device's (its clock), but no
 * expiry lies beyond the longest lifetime after `t` (consent-lifetime.ts): the widget keeps what the cookie
 * says, and the cookie must not hand it a consent longer than the server counts.
 *
 * `sent`: the copies of the cookie the request carried (the widget wrote its own just before sending). The one
 * of this very receipt (same `id` and site) supplies what a receipt does not say:
 * - the earlier answers of categories asked again that this decision did not answer (docs/cookie.md, `c`),
 *   with their services. The receipt leaves them out; they grant nothing (their expiry is not after `t`), but
 *   without them the next page would ask those categories as on a first visit, neither saying why nor
 *   prefilling the earlier answer;
 * - which services were chosen on their own (a placeholder's "Allow" in a category asked): the receipt gives
 *   every service an expiry, the widget lists one only for those. Such a service gets its expiry (bounded as
 *   every other): listed without one, it would follow its category, asked again, and be denied.
 */
export function cookieValue(receipt: Receipt, sent: readonly string[] = []): string {
  const expiry = receiptExpiries(receipt);
  const list = (choices: Record<string, boolean>, suffix: (id: string) => string, carried: string[]) =>
    [...Object.keys(choices).map((id) => `${id}:${choices[id] ? 1 : 0}${suffix(id)}`), ...carried].join('.');
  const carried = carriedEntries(receipt, sent);
  return new URLSearchParams({
    v: String(COOKIE_FORMAT),
    k: receipt.siteId,
    r: receipt.revision,
    t: String(receipt.collectedAt),
    x: String(expiry.expiresAt),
    m: receipt.method,
    id: receipt.receiptId,
    d: receipt.deviceId ?? '',
    g: receipt.gpc ? '1' : '0',
    c: list(
      receipt.categories,
      (id) => (receipt.expiries?.[id] ? `:${expiry.of('category', id)}` : ''),
      carried.c,
    ),
    s: list(receipt.services, (id) => (carried.own.has(id) ? `:${expiry.of('service', id)}` : ''), carried.s),
  }).toString();
}

/**
 * From the widget's copy of `receipt`'s cookie among `sent`: the entries the receipt leaves out and that grant
 * nothing (`c`, `s`): categories with an expiry not after the decision (`id:0|1:<expiry ≤ t>`), and services
 * absent from the receipt (those of such categories: unlisted, they would follow their category, which is asked
 * again), but none with an expiry of its own in force; and (`own`) the receipt's services the copy lists with an
 * expiry of their own. Anything else of the copy is ignored: the receipt is the record.
 */
function carriedEntries(receipt: Receipt, sent: readonly string[]) {
  const carried = { c: [] as string[], s: [] as string[], own: new Set<string>() };
  const copy = sent
    .map((value) => new URLSearchParams(value))
    .find(
      (p) =>
        p.get('v') === String(COOKIE_FORMAT) &&
        p.get('id') === receipt.receiptId &&
        (p.get('k') ?? receipt.siteId) === receipt.siteId,
    );
  if (!copy) return carried;
  for (const [key, choices] of [
    ['c', receipt.categories],
    ['s', receipt.services],
  ] as const)
    for (const entry of (copy.get(key) ?? '').split('.')) {
      const [id = '', choice, x, extra] = entry.split(':');
      const expired = x !== undefined && /^\d+$/.test(x) && Number(x) <= receipt.collectedAt;
      if (key === 's' && Object.hasOwn(choices, id) && x !== undefined) carried.own.add(id);
      else if (
        ITEM_ID_PATTERN.test(id) &&
        !Object.hasOwn(choices, id) &&
        (choice === '0' || choice === '1') &&
        extra === undefined &&
        (expired || (key === 's' && x === undefined))
      )
        carried[key].push(entry);
    }
  return carried;
}

/**
 * The `Set-Cookie` header value. Kept until the last choice expires (as the widget does), by the server clock:
 * a device clock ahead of the server's makes it last no longer, nor does an expiry beyond the longest lifetime
 * (consent-lifetime.ts); not HttpOnly (the widget reads it at start-up), `SameSite=Lax`, `Secure` on https
 * pages. `receivedAt` is the receipt's, server time.
 */
export function consentSetCookie(
  site: SiteConfig,
  receipt: Receipt,
  opts: { now: number; receivedAt: number; secure: boolean; sent?: readonly string[] },
): string | undefined {
  const cookie = site.firstPartyCookie;
  if (!cookie) return undefined;
  const expiry = receiptExpiries(receipt, opts.receivedAt);
  const until = Math.max(
    expiry.expiresAt,
    ...Object.keys(receipt.categories).map((id) => expiry.of('category', id)),
    ...Object.keys(receipt.services).map((id) => expiry.of('service', id)),
    ...Object.keys(receipt.preferences ?? {}).map((id) => expiry.of('preference', id)),
  );
  const maxAge = Math.max(1, Math.ceil((until - opts.now) / 1000));
  return [
    `${cookie.name}=${cookieValue(receipt, opts.sent)}`,
    `Max-Age=${maxAge}`,
    `Path=${cookie.path}`,
    ...(cookie.domain ? [`Domain=${cookie.domain}`] : []),
    'SameSite=Lax',
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

/**
 * Whether the request reached us under the page's own origin (through the site's reverse proxy): only then
 * is a cookie we set first-party for that page. `host` is the host the client asked for.
 */
export function isFirstParty(site: SiteConfig, origin: string | undefined, host: string): boolean {
  if (!site.firstPartyCookie || !origin || !site.origins.includes(origin)) return false;
  return new URL(origin).host === host;
}

/**
 * Set-Cookie values for a batch's results: one per device, for its decision in the batch that is the device's
 * latest once the batch is stored (by the chain of receipts, then the bounded clock: insertReceiptsWithChoices),
 * when the request came through the site's own origin. A batch holding only older receipts that arrived late
 * sets nothing. A receipt sent again (`duplicate`) sets it too while it is still the device's latest: its first
 * answer may have been lost (the network went, so the widget sent it again), and without this one the decision
 * lasted only as long as the script's own copy (7 days in Safari). Once a newer decision is stored it sets
 * nothing: a resend (the pagehide beacon of a page left before its answer was settled) that arrives after the
 * next page's decision would have put the older one back.
 */
export function createFirstPartyCookies(deps: { db: Queryable; config: ServerConfig; now: () => number }) {
  /** `cookieHeader`: the request's `Cookie` header (the widget's own copy of the decision, see cookieValue). */
  async function cookiesFor(
    results: readonly ReceiptResult[],
    origin: string | undefined,
    host: string,
    cookieHeader = '',
  ) {
    const byDevice = new Map<
      string,
      { site: SiteConfig; deviceId: string; signed: Map<string, SignedReceipt> }
    >();
    for (const r of results) {
      if (r.outcome === 'rejected' || !r.signed.receipt.deviceId) continue;
      const { receipt } = r.signed;
      const site = findSite(deps.config, receipt.siteId);
      if (!site || !isFirstParty(site, origin, host)) continue;
      const key = `${site.id} ${receipt.deviceId}`;
      const entry = byDevice.get(key) ?? { site, deviceId: receipt.deviceId as string, signed: new Map() };
      entry.signed.set(receipt.receiptId, r.signed);
      byDevice.set(key, entry);
    }
    const cookies: string[] = [];
    for (const { site, deviceId, signed } of byDevice.values()) {
      const latest = signed.get((await latestDeviceReceiptId(deps.db, site.id, deviceId)) ?? '');
      if (!latest) continue;
      const sent = cookiesNamed(cookieHeader, site.firstPartyCookie!.name);
      // The widget writes its copy before it sends. A copy of another decision means the widget kept that one:
      // an answer in a tab still on an older policy revision, which must not replace the newer policy's decision
      // (src/core/consent.ts); written here, the next page would ask again. No copy at all (Safari purged it):
      // this one is the cookie.
      const k = (p: URLSearchParams) => p.get('k') ?? site.id;
      const copies = sent.map((v) => new URLSearchParams(v)).filter((p) => k(p) === site.id);
      if (copies.length && !copies.some((p) => p.get('id') === latest.receipt.receiptId)) continue;
      const secure = origin?.startsWith('https:') ?? false;
      const cookie = consentSetCookie(site, latest.receipt, {
        now: deps.now(),
        receivedAt: latest.receivedAt,
        secure,
        sent,
      });
      if (cookie) cookies.push(cookie);
    }
    return cookies;
  }
  return { cookiesFor };
}

/** The values of every cookie called `name` in a `Cookie` header (a page may see several copies). */
function cookiesNamed(header: string, name: string): string[] {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${name}=`))
    .map((pair) => pair.slice(name.length + 1));
}
