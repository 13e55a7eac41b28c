import { DEVICE_ID_PATTERN, METHODS, type Method, RECEIPT_ID_PATTERN } from '../protocol/ids.ts';
import {
  type Choices,
  type ConsentState,
  DECISION_FORMAT,
  type Decision,
  type ResolvedCategory,
  type ResolvedConfig,
} from './types.ts';

/** Pure decision logic: validation of stored data, staleness, and building a new decision. */

export const DAY = 86_400_000;
const isChoices = (v: unknown): v is Choices =>
  !!v && typeof v === 'object' && Object.values(v).every((b) => typeof b === 'boolean');
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * A map of choices or expiries without a prototype: a page that polluted `Object.prototype` (`ga = true`, a
 * bug of a query-string or merge library) must not supply a choice nobody made. Every decision this module
 * reads (readDecision) or makes (decide) holds only such maps.
 */
export const bare = <T>(o: Record<string, T> = {}): Record<string, T> =>
  Object.assign(Object.create(null), o);

export const services = (cfg: ResolvedConfig) => cfg.categories.flatMap((c) => c.services);
const optional = (cfg: ResolvedConfig) => cfg.categories.filter((c) => !c.required);

/**
 * Reads a stored decision. Anything malformed, or of a format this version does not know (older formats
 * would be migrated here; there are none yet; newer ones cannot be trusted), is NO decision, never consent.
 * So is one made more than a day after `now` (a device clock that was wrong when deciding, or a value planted
 * to outrank every real one): its expiries, counted from that clock, would keep it for as long as the clock
 * was ahead. Every source reads it so: IndexedDB, the cookie, another tab (a receipt job, without `now`, is
 * kept: it records what was decided).
 */
export function readDecision(x: unknown, now = 1 / 0): Decision | null {
  const d = x as Decision;
  if (
    !d ||
    d.format !== DECISION_FORMAT ||
    typeof d.revision !== 'string' ||
    !isTime(d.decidedAt) ||
    d.decidedAt > now + DAY ||
    !isTime(d.expiresAt) ||
    !(METHODS as readonly string[]).includes(d.method) ||
    !isChoices(d.categories) ||
    !isChoices(d.services) ||
    !d.expiries ||
    !Object.values(d.expiries).every(isTime) ||
    !RECEIPT_ID_PATTERN.test(d.receiptId) ||
    !DEVICE_ID_PATTERN.test(d.deviceId) ||
    typeof d.gpc !== 'boolean'
  )
    return null;
  return { ...d, categories: bare(d.categories), services: bare(d.services), expiries: bare(d.expiries) };
}

/**
 * When a category's choice ends, or (`id`) a service's own: as stored, but never later than the category's
 * lifetime as configured now, from the decision (a lifetime shortened since applies to decisions already made;
 * a longer one does not extend them).
 */
const until = (d: Decision, c: ResolvedCategory, id = c.id) =>
  Math.min(d.expiries[id] ?? d.expiresAt, d.decidedAt + c.lifetimeDays * DAY);

/**
 * A service's own expiry, when its choice does not follow its category's: chosen on its own in a category the
 * decision does not answer (a placeholder's "Allow"). Without an entry of its own (a cookie the server wrote,
 * an older decision): the decision's `expiresAt`.
 */
const own = (d: Decision, c: ResolvedCategory, id: string) =>
  (id in d.expiries || !(c.id in d.categories)) && until(d, c, id);

/** What applies now, and whether (and why, and about what) the visitor must be asked. */
export function evaluate(
  cfg: ResolvedConfig,
  d: Decision | null,
  now: number,
  gpc: string[],
): Pick<ConsentState, 'granted' | 'prompt'> {
  const v = d?.revision === cfg.revision ? d : null;
  // Asked, and denied until answered: every category on a first visit or a new revision; else those never
  // answered (only a service was allowed; a category added without a revision bump), the expired ones, and
  // those the decision keeps only as the earlier answer of a category asked again (see decide()).
  const ask = optional(cfg)
    .filter((c) => !v || !(c.id in v.categories) || until(v, c) <= Math.max(now, v.decidedAt))
    .map((c) => c.id);
  const stale = ask.filter((id) => v && id in v.categories);
  // GPC denies its categories, unless the visitor chose otherwise while sending GPC.
  const no = v?.gpc ? [] : gpc;
  const on = (c: ResolvedCategory, x: boolean | undefined, live: boolean) =>
    c.required || (x === true && live && !no.includes(c.id));
  const categories: Choices = {};
  const svc: Choices = {};
  for (const c of cfg.categories) {
    categories[c.id] = on(c, v?.categories[c.id], !ask.includes(c.id));
    // A service not in the decision (added to its category since) follows its category's choice; one chosen
    // on its own holds until its own expiry.
    for (const s of c.services) {
      const x = v && own(v, c, s.id);
      svc[s.id] = on(
        c,
        v?.services[s.id] ?? v?.categories[c.id],
        x === false ? !ask.includes(c.id) : x! > now,
      );
    }
  }
  return {
    granted: { categories, services: svc },
    // As on a first visit when none of the asked ones was answered before.
    prompt:
      !v || ask.length
        ? {
            reason: !d
              ? 'first-visit'
              : !v || stale.some((id) => v.expiries[id] === 1)
                ? 'revision'
                : stale.length
                  ? 'expired'
                  : 'first-visit',
            categories: ask,
            previous: d && { categories: d.categories, services: d.services },
          }
        : null,
  };
}

export interface DecideInput {
  categories?: Choices;
  services?: Choices;
  method: Method;
  now: number;
  receiptId: string;
  deviceId: string;
  gpc: boolean;
}

/**
 * Builds the next decision from the previous one and what the visitor just chose. Categories named in the
 * input get a fresh lifetime; the others keep their choice and expiry while those are still valid, and those
 * asked again keep their earlier answer (see below).
 */
export function decide(cfg: ResolvedConfig, prev: Decision | null, i: DecideInput): Decision {
  const valid = prev?.revision === cfg.revision ? prev : null;
  // A choice carries over while valid, except a category GPC denies now when GPC was off as it was made: the
  // visitor has not chosen it while sending GPC (a later "Allow Chat" must not bring marketing back). GPC's
  // denial is then the choice recorded.
  const keep = (c: ResolvedCategory) =>
    !!valid &&
    c.id in valid.categories &&
    until(valid, c) > Math.max(i.now, valid.decidedAt) &&
    !(i.gpc && c.gpc && !valid.gpc);
  const categories: Choices = bare();
  const services: Choices = bare();
  const expiries: Record<string, number> = bare();
  let expiresAt = Number.POSITIVE_INFINITY;
  // Only a boolean is a choice: anything else (`'false'`, 1, null from a page's form) counts as not named, so
  // that it neither grants nor reaches the stored decision (where the cookie mirror would read it as true).
  const chosen = (m: Choices | undefined, id: string) => {
    const v = m && Object.hasOwn(m, id) ? m[id] : undefined;
    return typeof v === 'boolean' ? v : undefined;
  };
  /** A service's own expiry in the previous decision, while it holds (else 0). */
  const mine = (c: ResolvedCategory, id: string) => (valid && id in valid.services && own(valid, c, id)) || 0;
  for (const c of cfg.categories) {
    const choice = chosen(i.categories, c.id);
    const named = choice !== undefined;
    const kept = !named && keep(c);
    // Not chosen now, and no valid choice before: no choice is recorded for it (a first visit's "Allow
    // YouTube" on a placeholder), and the banner asks for it. A refusal nobody made must not reach the receipt.
    if (!c.required && !named && !kept && !(i.gpc && c.gpc)) {
      // Asked again (expired, or a new revision) and not answered now (the page's `set()` of another one, a
      // placeholder's "Allow"): the earlier answer stays, with its expiry (past; 1 after a revision change), so
      // that the banner still asks about it, says why, and prefills it. It counts for no expiry of this
      // decision, and its receipt leaves it out (receipt.ts).
      if (prev && c.id in prev.categories) {
        categories[c.id] = prev.categories[c.id]!;
        expiries[c.id] = valid ? Math.min(until(valid, c), i.now) : 1;
      }
      for (const s of c.services) {
        const v = chosen(i.services, s.id);
        // A service chosen on its own lasts its category's lifetime; one chosen so before (another video's
        // "Allow" now, or another category) stays, until then.
        const x = v === undefined ? mine(c, s.id) : i.now + c.lifetimeDays * DAY;
        if (x > i.now) {
          services[s.id] = v ?? valid!.services[s.id]!;
          expiries[s.id] = x;
          expiresAt = Math.min(expiresAt, x);
        } else if (c.id in categories) services[s.id] = prev!.services[s.id] ?? categories[c.id]!;
      }
      continue;
    }
    categories[c.id] = c.required || (named ? choice : kept && valid!.categories[c.id]!);
    for (const s of c.services)
      services[s.id] =
        c.required ||
        (chosen(i.services, s.id) ??
          (named
            ? // × keeps a service allowed on its own before (a placeholder's video).
              (i.method === 'close' && mine(c, s.id) > i.now && valid!.services[s.id]) || categories[c.id]!
            : kept
              ? (valid!.services[s.id] ?? categories[c.id]!)
              : categories[c.id]!));
    if (!c.required) {
      expiries[c.id] = kept ? until(valid!, c) : i.now + c.lifetimeDays * DAY;
      expiresAt = Math.min(expiresAt, expiries[c.id]!);
    }
  }
  return {
    format: DECISION_FORMAT,
    revision: cfg.revision,
    // After the decision it follows, whatever the clock says: a device clock set back (corrected by NTP, within
    // the day readDecision tolerates) must not rank the visitor's later refusal behind their earlier acceptance,
    // in the other tabs, the cookie and a sibling subdomain's copy. Never more than a day ahead of the clock.
    decidedAt: Math.max(i.now, Math.min((prev?.decidedAt ?? 0) + 1, i.now + DAY)),
    expiresAt: Number.isFinite(expiresAt) ? expiresAt : i.now + cfg.lifetimeDays * DAY,
    method: i.method,
    categories,
    services,
    expiries,
    receiptId: i.receiptId,
    deviceId: i.deviceId,
    gpc: i.gpc,
  };
}
