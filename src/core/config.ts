import { ITEM_ID_PATTERN, SITE_ID_PATTERN } from '../protocol/ids.ts';
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

type Warn = (msg: string) => void;
// biome-ignore lint/suspicious/noExplicitAny: host input is untyped until checked here
type Any = any;

const isObj = (v: unknown): v is Record<string, Any> => !!v && typeof v === 'object' && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isLoc = (v: unknown): v is Localized => isStr(v) || (isObj(v) && Object.values(v).every(isStr));
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isBool = (v: unknown) => typeof v === 'boolean';
/** BCP 47, as the receipt schema requires. */
const isLang = (v: unknown) => isStr(v) && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(v);

/**
 * Validates the host configuration. Every bad key gets ONE console warning naming it and the fix, and is
 * replaced by a safe default; never throws (the host page must keep working whatever it passes).
 */
export function resolveConfig(input: unknown, warn: Warn = (m) => console.warn(m)): ResolvedConfig {
  const w = (key: string, fix: string) => warn(`[assenso] config.${key}: ${fix}`);
  const c: Record<string, Any> = isObj(input) ? input : {};
  if (!isObj(input)) w('(root)', 'must be an object like { siteId, categories }; using an empty config');
  // Reads an optional key: undefined → default silently; present but invalid → warn and default.
  const opt = <T>(key: string, ok: (v: unknown) => boolean, def: T, fix: string, at = c, path = key): T => {
    const v = at[key];
    if (v === undefined) return def;
    if (ok(v)) return v as T;
    w(path, fix);
    return def;
  };
  const days = (at: Record<string, Any>, path: string, def: number) =>
    opt(
      'lifetimeDays',
      (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_LIFETIME_DAYS,
      def,
      `must be a whole number of days from 1 to ${MAX_LIFETIME_DAYS} (13 months); using ${def}`,
      at,
      `${path}lifetimeDays`,
    );

  let siteId = c.siteId;
  if (!(typeof siteId === 'string' && SITE_ID_PATTERN.test(siteId))) {
    w('siteId', 'must match [a-z0-9][a-z0-9_-]{0,63} (e.g. "my-shop"); using "default"');
    siteId = 'default';
  }
  const lifetimeDays = days(c, '', DEFAULT_LIFETIME_DAYS);
  const seen = new Set<string>();
  const idOk = (id: unknown, path: string) => {
    if (typeof id === 'string' && ITEM_ID_PATTERN.test(id) && !seen.has(id)) return seen.add(id);
    w(path, `must be a unique id matching [a-z0-9][a-z0-9_-]{0,63}; item ignored`);
    return false;
  };

  const categories: ResolvedCategory[] = [];
  const cats = opt<Any[]>('categories', Array.isArray, [], 'must be an array of categories; none used');
  if (!cats.length) w('categories', 'needs at least one category (e.g. { id: "necessary", required: true })');
  for (const [i, cat] of cats.entries()) {
    const p = `categories[${i}].`;
    if (!isObj(cat)) {
      w(`categories[${i}]`, 'must be an object; item ignored');
      continue;
    }
    if (!idOk(cat.id, `${p}id`)) continue;
    const services: ResolvedService[] = [];
    for (const [j, s] of opt<Any[]>(
      'services',
      Array.isArray,
      [],
      'must be an array',
      cat,
      `${p}services`,
    ).entries()) {
      const q = `${p}services[${j}].`;
      if (!isObj(s)) {
        w(`${p}services[${j}]`, 'must be an object; item ignored');
        continue;
      }
      if (!idOk(s.id, `${q}id`)) continue;
      const o = <T>(key: string, ok: (v: unknown) => boolean, def?: T, fix = 'has the wrong type; ignored') =>
        opt(key, ok, def, fix, s, q + key);
      const cookies = o<Any[]>('cookies', Array.isArray, [])!.filter((k, n) => {
        if (isObj(k) && isStr(k.name)) return true;
        w(`${q}cookies[${n}].name`, 'must be a cookie name or a prefix like "_ga*"; item ignored');
        return false;
      });
      services.push({
        id: s.id,
        name: o('name', isStr, s.id, 'must be a non-empty string; using the id')!,
        provider: o('provider', isStr),
        purpose: o('purpose', isLoc),
        privacyUrl: o('privacyUrl', isStr),
        cookies: cookies.map((k) => ({ ...k }) as CookieSpec),
        storageKeys: o('storageKeys', isStrList, [], 'must be an array of key names')!,
        domains: o('domains', isStrList, [], 'must be an array of host names')!,
        category: cat.id,
      });
    }
    const loc = (key: string) =>
      opt<Localized>(key, isLoc, cat.id, 'must be a string or { lang: string }; using the id', cat, p + key);
    categories.push({
      id: cat.id,
      required: opt('required', isBool, false, 'must be true or false', cat, `${p}required`),
      title: loc('title'),
      description: loc('description'),
      lifetimeDays: days(cat, p, lifetimeDays),
      gpc: opt('gpc', isBool, false, 'must be true or false', cat, `${p}gpc`),
      services,
    });
  }

  const cm = c.consentMode;
  let consentMode: ResolvedConfig['consentMode'] = false;
  if (cm === true || isObj(cm)) {
    const m = isObj(cm) ? cm : {};
    const mapping = { ...DEFAULT_CONSENT_MODE };
    for (const [k, v] of Object.entries(
      opt('mapping', isObj, {}, 'must be an object', m, 'consentMode.mapping'),
    )) {
      if (k in mapping && isStrList(v)) mapping[k as GoogleConsentType] = v;
      else
        w(
          `consentMode.mapping.${k}`,
          `must be a Consent Mode type (${Object.keys(mapping).join(', ')}) → category ids`,
        );
    }
    const waitForUpdate = opt(
      'waitForUpdate',
      (v) => Number.isInteger(v) && (v as number) >= 0,
      500,
      'must be milliseconds ≥ 0; using 500',
      m,
      'consentMode.waitForUpdate',
    );
    consentMode = { mapping, waitForUpdate };
  } else if (cm !== undefined && cm !== false)
    w('consentMode', 'must be true, false or { mapping, waitForUpdate }');

  const ck = opt<Record<string, Any>>('cookie', isObj, {}, 'must be { name, domain, path, sameSite }');
  const cookie = {
    name: opt(
      'name',
      (v) => isStr(v) && /^[\w-]+$/.test(v),
      'assenso',
      'must be letters, digits, _ or -',
      ck,
      'cookie.name',
    ),
    domain: opt<string | null>(
      'domain',
      isStr,
      null,
      'must be a domain like "example.com"',
      ck,
      'cookie.domain',
    ),
    path: opt('path', (v) => isStr(v) && v[0] === '/', '/', 'must start with "/"', ck, 'cookie.path'),
    sameSite: opt(
      'sameSite',
      (v) => ['Lax', 'Strict', 'None'].includes(v as string),
      'Lax',
      'must be Lax, Strict or None',
      ck,
      'cookie.sameSite',
    ),
  } as ResolvedConfig['cookie'];
  const oneOf = <T extends string>(key: string, list: T[], def: T) =>
    opt<T>(key, (v) => list.includes(v as T), def, `must be one of ${list.join(', ')}; using ${def}`);

  return {
    siteId,
    endpoint:
      opt<string | null>(
        'endpoint',
        (v) => isStr(v) && /^(https?:\/\/|\/)/.test(v),
        null,
        'must be an http(s) URL or a path; receipts stay on the device',
      )?.replace(/\/+$/, '') ?? null,
    revision: String(
      opt<string | number>(
        'revision',
        (v) => (isStr(v) || typeof v === 'number') && `${v}`.length <= 64,
        '1',
        'must be a string of 1 to 64 characters like "2026-05"; using "1"',
      ),
    ),
    lifetimeDays,
    language: opt<string | null>('language', isLang, null, 'must be a language tag like "it" or "pt-BR"'),
    languages: opt(
      'languages',
      (v) => Array.isArray(v) && v.length > 0 && v.every(isLang),
      ['it', 'en', 'de', 'fr', 'es'],
      'must be a non-empty array of language tags like "it"',
    ),
    privacyPolicyUrl: opt<Localized | null>(
      'privacyPolicyUrl',
      isLoc,
      null,
      'must be a URL or { lang: URL }',
    ),
    categories,
    texts: opt(
      'texts',
      (v) => isObj(v) && Object.values(v).every(isObj),
      {},
      'must be { lang: { key: text } }',
    ),
    layout: oneOf('layout', ['bar', 'box', 'modal'], 'box'),
    theme: oneOf('theme', ['light', 'dark', 'auto'], 'auto'),
    themeTokens: opt('themeTokens', isObj, {}, 'must be { "--assenso-…": value }'),
    cookie,
    consentMode,
    gpc: opt('gpc', isBool, true, 'must be true or false'),
  };
}
