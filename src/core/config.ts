import { ITEM_ID_PATTERN, SITE_ID_PATTERN } from '../protocol/ids.ts';
import type { Fix } from './config-fixes.ts';
import type {
  CookieSpec,
  GoogleConsentType,
  Localized,
  ResolvedCategory,
  ResolvedConfig,
  ResolvedService,
} from './types.ts';

export const DEFAULT_LIFETIME_DAYS = 182;
export const MAX_LIFETIME_DAYS = 395;

/** Consent Mode v2 default mapping (category ids as in the demo and the docs). */
export const DEFAULT_CONSENT_MODE: Record<GoogleConsentType, string[]> = {
  ad_storage: ['marketing'],
  ad_user_data: ['marketing'],
  ad_personalization: ['marketing'],
  analytics_storage: ['analytics'],
  functionality_storage: ['functional'],
  personalization_storage: ['functional'],
  security_storage: [],
};

/** A bad key: its path, the fix (a key of FIXES in config-fixes.ts) and the fix's values. */
export type Issue = [path: string, fix: Fix, ...values: string[]];
// biome-ignore lint/suspicious/noExplicitAny: host input is untyped until checked here
type Any = any;

export const isObj = (v: unknown): v is Record<string, Any> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
export const isStr = (v: unknown): v is string => typeof v === 'string' && v !== '';
/**
 * A cookie name, or a prefix ending in `*`: never `*` alone, which clearing took for every cookie of the site
 * (the visitor's session among them), nor what a cookie name cannot hold.
 */
export const isCookieName = (v: unknown): v is string => isStr(v) && /^(?!\*$)[^\s;,=]+$/.test(v);
const isLoc = (v: unknown): v is Localized => isStr(v) || (isObj(v) && Object.values(v).every(isStr));
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isPath = (v: unknown) => isStr(v) && v[0] === '/';
const isBool = (v: unknown) => typeof v === 'boolean';
/** BCP 47, as the receipt schema requires. */
const isLang = (v: unknown) => isStr(v) && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(v);

/**
 * Validates the host configuration. Every bad key is reported ONCE (its path and the fix, which
 * config-fixes.ts words: `resolveConfig` there prints it) and replaced by a safe default; never throws (the
 * host page must keep working whatever it passes). The wording lives apart so that the script tag's first
 * file carries none of it: the widget prints these warnings once its delivery chunk has loaded.
 */
export function checkConfig(input: unknown, report: (issue: Issue) => void = () => {}): ResolvedConfig {
  const w = (key: string, fix: Fix, ...values: string[]) => report([key, fix, ...values]);
  // Not an object: named as such, and not by the keys it lacks. (Its own keys are read all the same: the
  // script tag's data attributes come on an array then, see embed.ts.)
  const root = isObj(input);
  const c: Record<string, Any> = root ? input : { ...(input as Any) };
  if (!root) w('(root)', 'root');
  // Reads an optional key of `at` (whose path is `pre`): undefined → default silently; present but invalid →
  // report and default.
  const opt = <T>(key: string, ok: (v: unknown) => boolean, def: T, fix: Fix, at = c, pre = ''): T => {
    const v = at[key];
    if (v === undefined) return def;
    if (ok(v)) return v as T;
    w(pre + key, fix, `${def}`);
    return def;
  };
  const days = (at: Record<string, Any>, path: string, def: number) =>
    opt(
      'lifetimeDays',
      (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_LIFETIME_DAYS,
      def,
      'days',
      at,
      path,
    );

  let siteId = c.siteId;
  if (!(typeof siteId === 'string' && SITE_ID_PATTERN.test(siteId))) {
    if (root) w('siteId', 'siteId');
    siteId = 'default';
  }
  const lifetimeDays = days(c, '', DEFAULT_LIFETIME_DAYS);
  const seen = new Set<string>();
  const idOk = (id: unknown, path: string) => {
    if (typeof id === 'string' && ITEM_ID_PATTERN.test(id) && !seen.has(id)) return seen.add(id);
    w(path, 'id');
    return false;
  };

  const categories: ResolvedCategory[] = [];
  const cats = opt<Any[]>('categories', Array.isArray, [], 'cats');
  // (Not again when `categories` is no array: that one key has had its warning.)
  if (!cats.length && root && Array.isArray(c.categories ?? cats)) w('categories', 'noCats');
  for (const [i, cat] of cats.entries()) {
    const p = `categories[${i}].`;
    if (!isObj(cat)) {
      w(`categories[${i}]`, 'item');
      continue;
    }
    if (!idOk(cat.id, `${p}id`)) continue;
    const services: ResolvedService[] = [];
    for (const [j, s] of opt<Any[]>('services', Array.isArray, [], 'array', cat, p).entries()) {
      const q = `${p}services[${j}].`;
      if (!isObj(s)) {
        w(`${p}services[${j}]`, 'item');
        continue;
      }
      if (!idOk(s.id, `${q}id`)) continue;
      const o = <T>(key: string, ok: (v: unknown) => boolean, def?: T, fix: Fix = 'type') =>
        opt(key, ok, def, fix, s, q);
      // A cookie's other fields are checked one by one: a bad one is dropped, the cookie stays (its name is
      // what clearing needs), so that neither the preference center nor the clean-up on withdrawal trips on it.
      const cookies: CookieSpec[] = [];
      for (const [n, k] of o<Any[]>('cookies', Array.isArray, [])!.entries()) {
        const r = `${q}cookies[${n}].`;
        if (!(isObj(k) && isCookieName(k.name))) {
          w(`${r}name`, 'cookieName');
          continue;
        }
        const f = (key: string, ok: (v: unknown) => boolean, fix: Fix) =>
          opt<Any>(key, ok, undefined, fix, k, r);
        cookies.push({
          name: k.name,
          domain: f('domain', isStr, 'domain'),
          path: f('path', isPath, 'path'),
          duration: f('duration', isLoc, 'text'),
          purpose: f('purpose', isLoc, 'text'),
        });
      }
      services.push({
        id: s.id,
        name: o('name', isStr, s.id, 'name')!,
        provider: o('provider', isStr),
        purpose: o('purpose', isLoc),
        privacyUrl: o('privacyUrl', isStr),
        cookies,
        // Not `*` alone: clearing would empty the site's whole localStorage and sessionStorage.
        storageKeys: o('storageKeys', (v) => isStrList(v) && !v.includes('*'), [], 'keys')!,
        domains: o('domains', isStrList, [], 'hosts')!,
        category: cat.id,
      });
    }
    const loc = (key: string) => opt<Localized>(key, isLoc, cat.id, 'loc', cat, p);
    categories.push({
      id: cat.id,
      required: opt('required', isBool, false, 'bool', cat, p),
      title: loc('title'),
      description: loc('description'),
      lifetimeDays: days(cat, p, lifetimeDays),
      gpc: opt('gpc', isBool, false, 'bool', cat, p),
      services,
    });
  }

  const cm = c.consentMode;
  let consentMode: ResolvedConfig['consentMode'] = false;
  if (cm === true || isObj(cm)) {
    const m = isObj(cm) ? cm : {};
    const mapping = { ...DEFAULT_CONSENT_MODE };
    for (const [k, v] of Object.entries(opt('mapping', isObj, {}, 'object', m, 'consentMode.'))) {
      // Own keys only: `toString` or a JSON `__proto__` is no Consent Mode type (and must not reach gtag).
      const known = Object.hasOwn(mapping, k);
      if (known && isStrList(v)) mapping[k as GoogleConsentType] = v;
      else w(`consentMode.mapping.${k}`, known ? 'cmIds' : 'cmType', Object.keys(mapping).join(', '));
    }
    const waitForUpdate = opt(
      'waitForUpdate',
      (v) => Number.isInteger(v) && (v as number) >= 0,
      500,
      'ms',
      m,
      'consentMode.',
    );
    const set = [
      ['adsDataRedaction', 'ads_data_redaction'],
      ['urlPassthrough', 'url_passthrough'],
    ]
      .filter(([k]) => opt(k!, isBool, false, 'bool', m, 'consentMode.'))
      .map(([, flag]) => flag!);
    consentMode = { mapping, waitForUpdate, set };
  } else if (cm !== undefined && cm !== false) w('consentMode', 'cm');

  const ck = opt<Record<string, Any>>('cookie', isObj, {}, 'cookie');
  const cookie = {
    name: opt('name', (v) => isStr(v) && /^[\w-]+$/.test(v), 'assenso', 'ckName', ck, 'cookie.'),
    domain: opt<string | null>('domain', isStr, null, 'domain', ck, 'cookie.'),
    path: opt('path', isPath, '/', 'path', ck, 'cookie.'),
    sameSite: opt(
      'sameSite',
      (v) => ['Lax', 'Strict', 'None'].includes(v as string),
      'Lax',
      'sameSite',
      ck,
      'cookie.',
    ),
  } as ResolvedConfig['cookie'];
  // A domain this page cannot set (a typo, a staging host): the browser refused every write, silently.
  const host = globalThis.location?.hostname;
  if (cookie.domain && host && !`.${host}`.endsWith(`.${cookie.domain.replace(/^\./, '').toLowerCase()}`)) {
    w('cookie.domain', 'ckHost', host);
    cookie.domain = null;
  }
  const oneOf = <T extends string>(key: string, list: T[], def: T) => {
    const v = c[key];
    if (v === undefined || list.includes(v)) return (v ?? def) as T;
    w(key, 'oneOf', list.join(', '), def);
    return def;
  };

  return {
    siteId,
    endpoint:
      opt<string | null>(
        'endpoint',
        (v) => isStr(v) && /^(https?:\/\/|\/)/.test(v),
        null,
        'endpoint',
      )?.replace(/\/+$/, '') ?? null,
    revision: String(
      opt<string | number>(
        'revision',
        (v) => (isStr(v) || typeof v === 'number') && `${v}`.length <= 64,
        '1',
        'revision',
      ),
    ),
    lifetimeDays,
    language: opt<string | null>('language', isLang, null, 'language'),
    languages: opt(
      'languages',
      (v) => Array.isArray(v) && v.length > 0 && v.every(isLang),
      ['it', 'en', 'de', 'fr', 'es'],
      'languages',
    ),
    privacyPolicyUrl: opt<Localized | null>('privacyPolicyUrl', isLoc, null, 'privacy'),
    categories,
    texts: opt('texts', (v) => isObj(v) && Object.values(v).every(isObj), {}, 'texts'),
    layout: oneOf('layout', ['bar', 'box', 'modal'], 'box'),
    theme: oneOf('theme', ['light', 'dark', 'auto'], 'auto'),
    themeTokens: opt('themeTokens', isObj, {}, 'tokens'),
    cookie,
    consentMode,
    gpc: opt('gpc', isBool, true, 'bool'),
  };
}
