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

const DAY = 86_400_000;
const isChoices = (v: unknown): v is Choices =>
  !!v && typeof v === 'object' && Object.values(v).every((b) => typeof b === 'boolean');
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

export const services = (cfg: ResolvedConfig) => cfg.categories.flatMap((c) => c.services);
const optional = (cfg: ResolvedConfig) => cfg.categories.filter((c) => !c.required);

/**
 * Reads a stored decision. Anything malformed, or of a format this version does not know (older formats
 * would be migrated here; there are none yet; newer ones cannot be trusted), is NO decision, never consent.
 */
export function readDecision(x: unknown): Decision | null {
  const d = x as Decision;
  if (
    !d ||
    d.format !== DECISION_FORMAT ||
    typeof d.revision !== 'string' ||
    !isTime(d.decidedAt) ||
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
  return d;
}

/** What applies now, and whether (and why, and about what) the visitor must be asked. */
export function evaluate(
  cfg: ResolvedConfig,
  d: Decision | null,
  now: number,
  gpc: string[],
): Pick<ConsentState, 'granted' | 'prompt'> {
  const ids = optional(cfg).map((c) => c.id);
  let prompt: ConsentState['prompt'] = null;
  // Denied until answered again: every category on a first visit or a new revision, the expired ones.
  let stale = ids;
  if (!d) prompt = { reason: 'first-visit', categories: ids, previous: null };
  else {
    const previous = { categories: d.categories, services: d.services };
    if (d.revision !== cfg.revision) prompt = { reason: 'revision', categories: ids, previous };
    else {
      // Never answered (only a service was allowed; a category added without a revision bump) or expired:
      // ask only those, and as on a first visit when none of them was ever answered.
      const ask = ids.filter((id) => !(id in d.categories) || (d.expiries[id] ?? d.expiresAt) <= now);
      stale = ask.filter((id) => id in d.categories);
      if (ask.length)
        prompt = { reason: stale.length ? 'expired' : 'first-visit', categories: ask, previous };
    }
  }
  // GPC denies its categories, unless the visitor chose otherwise while sending GPC.
  const off = new Set(d?.gpc ? stale : [...stale, ...gpc]);
  const categories: Choices = {};
  const svc: Choices = {};
  for (const c of cfg.categories) {
    categories[c.id] = c.required || (!off.has(c.id) && d?.categories[c.id] === true);
    // A service allowed on its own in a category never answered: until the decision's expiry.
    for (const s of c.services)
      svc[s.id] =
        c.required ||
        (!off.has(c.id) && d?.services[s.id] === true && (c.id in d.categories || d.expiresAt > now));
  }
  return { granted: { categories, services: svc }, prompt };
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
 * input get a fresh lifetime; the others keep their choice and expiry while those are still valid.
 */
export function decide(cfg: ResolvedConfig, prev: Decision | null, i: DecideInput): Decision {
  const valid = prev?.revision === cfg.revision ? prev : null;
  // A choice carries over while valid, except a category GPC denies now when GPC was off as it was made: the
  // visitor has not chosen it while sending GPC (a later "Allow Chat" must not bring marketing back). GPC's
  // denial is then the choice recorded.
  const keep = (c: ResolvedCategory) =>
    !!valid &&
    c.id in valid.categories &&
    (valid.expiries[c.id] ?? 0) > i.now &&
    !(i.gpc && c.gpc && !valid.gpc);
  const categories: Choices = {};
  const services: Choices = {};
  const expiries: Record<string, number> = {};
  let expiresAt = Number.POSITIVE_INFINITY;
  // Only a boolean is a choice: anything else (`'false'`, 1, null from a page's form) counts as not named, so
  // that it neither grants nor reaches the stored decision (where the cookie mirror would read it as true).
  const chosen = (m: Choices | undefined, id: string) => {
    const v = m?.[id];
    return typeof v === 'boolean' ? v : undefined;
  };
  for (const c of cfg.categories) {
    const choice = chosen(i.categories, c.id);
    const named = choice !== undefined;
    const kept = !named && keep(c);
    // Neither chosen now nor before (a first visit's "Allow YouTube" on a placeholder): no choice is recorded,
    // for the category or its services not named, and the banner asks for it. A refusal nobody made must not
    // reach the receipt.
    if (!c.required && !named && !kept && !(i.gpc && c.gpc)) {
      for (const s of c.services) {
        const v = chosen(i.services, s.id);
        if (v !== undefined) {
          services[s.id] = v;
          // Such a service's choice lasts its category's lifetime.
          expiresAt = Math.min(expiresAt, i.now + c.lifetimeDays * DAY);
        } else if (valid && s.id in valid.services && valid.expiresAt > i.now) {
          // One chosen so before (another video's "Allow" now, or another category) stays, until it expires.
          services[s.id] = valid.services[s.id]!;
          expiresAt = Math.min(expiresAt, valid.expiresAt);
        }
      }
      continue;
    }
    categories[c.id] = c.required || (named ? choice : kept && valid!.categories[c.id]!);
    for (const s of c.services)
      services[s.id] =
        c.required ||
        (chosen(i.services, s.id) ??
          (named
            ? // × keeps a service allowed on its own in a category never answered (a placeholder's video).
              (i.method === 'close' && valid?.services[s.id] && !(c.id in valid.categories)) ||
              categories[c.id]!
            : kept
              ? (valid!.services[s.id] ?? categories[c.id]!)
              : categories[c.id]!));
    if (!c.required) {
      expiries[c.id] = kept ? valid!.expiries[c.id]! : i.now + c.lifetimeDays * DAY;
      expiresAt = Math.min(expiresAt, expiries[c.id]!);
    }
  }
  return {
    format: DECISION_FORMAT,
    revision: cfg.revision,
    decidedAt: i.now,
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
