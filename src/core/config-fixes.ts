import type { Messages } from '../ui/i18n/messages.ts';
import { safeUrl } from '../ui/url.ts';
import { matches } from './clear.ts';
import {
  checkConfig,
  DEFAULT_CONSENT_MODE,
  type Issue,
  isCookieName,
  isObj,
  isStr,
  MAX_LIFETIME_DAYS,
} from './config.ts';
import type {
  AssensoConfig,
  CategoryConfig,
  ConsentModeConfig,
  CookieConfig,
  CookieSpec,
  GoogleConsentType,
  Localized,
  ResolvedConfig,
  ServiceConfig,
} from './types.ts';

/**
 * The wording of every configuration warning, by the fix code config.ts reports. `{0}`, `{1}`: the values
 * reported with it (the default used, the allowed list). Not in the script tag's first file: the widget
 * prints these from its delivery chunk (see createConsentWith).
 */
export const FIXES = {
  root: 'must be an object like { siteId, categories }; using an empty config',
  siteId: 'must match [a-z0-9][a-z0-9_-]{0,63} (e.g. "my-shop"); using "default"',
  days: `must be a whole number of days from 1 to ${MAX_LIFETIME_DAYS} (13 months); using {0}`,
  id: 'must be a unique id matching [a-z0-9][a-z0-9_-]{0,63}; item ignored',
  cats: 'must be an array of categories; none used',
  noCats: 'needs at least one category (e.g. { id: "necessary", required: true })',
  noRequired:
    'has no required category; add one for what the site needs to work (e.g. { id: "necessary", required: true })',
  item: 'must be an object; item ignored',
  array: 'must be an array',
  type: 'has the wrong type; ignored',
  cookieName:
    'must be a cookie name (no spaces, ";", "," or "=") or a prefix like "_ga*", not "*" alone; item ignored',
  ckOwn: 'matches the consent cookie "{0}", which is never cleared; name the service\'s own cookies',
  name: 'must be a non-empty string; using the id',
  keys: 'must be an array of key names or prefixes like "ga_*", not "*" alone; none used',
  hosts: 'must be an array of host names',
  loc: 'must be a string or { lang: string }; using the id',
  text: 'must be a string or { lang: string }; ignored',
  bool: 'must be true or false; using {0}',
  object: 'must be an object',
  cmType: 'must be a Consent Mode type ({0}) → category ids',
  cmIds: 'must be an array of category ids like ["analytics"]; using the default',
  unknownCat: 'names "{0}", not a category of this site ({1}); the type stays denied',
  ms: 'must be milliseconds ≥ 0; using 500',
  cm: 'must be true, false or { mapping, waitForUpdate, adsDataRedaction, urlPassthrough }',
  cookie: 'must be { name, domain, path, sameSite }',
  ckName: 'must be letters, digits, _ or -',
  domain: 'must be a domain like "example.com"',
  ckHost: "does not cover this page's host {0}; using host-only",
  path: 'must start with "/"',
  sameSite: 'must be Lax, Strict or None',
  oneOf: 'must be one of {0}; using {1}',
  endpoint: 'must be an http(s) URL or a path; receipts stay on the device',
  revision: 'must be a string of 1 to 64 characters like "2026-05"; using "1"',
  language: 'must be a language tag like "it" or "pt-BR"',
  unlisted: 'is not in config.languages ({0}); ignored',
  languages: 'must be a non-empty array of language tags like "it"',
  privacy: 'must be a URL or { lang: URL }',
  link: 'must be an http(s) or relative URL; not linked',
  texts: 'must be { lang: { key: text } }',
  msg: 'must be a non-blank string; the built-in text is used',
  tokens: 'must be { "--assenso-…": value }',
  token: 'must be a string, named "--assenso-…" (docs/embedding.md); ignored',
  noToken: 'is not a theme token (docs/embedding.md lists them); ignored',
  nearToken: 'is not a theme token; did you mean {0}?',
  unknown: 'is not a setting; ignored',
  near: 'is not a setting; did you mean {0}?',
} as const;

export type Fix = keyof typeof FIXES;

/** The console warning for one bad key: `[assenso] config.<path>: <fix>`. */
export const explain = ([path, fix, ...values]: Issue): string =>
  `[assenso] config.${path}: ${FIXES[fix].replace(/\{(\d)\}/g, (_, n: string) => values[Number(n)] ?? '')}`;

// biome-ignore lint/suspicious/noExplicitAny: host input is untyped
type Any = any;

/** The keys of a level of the configuration, held to its type both ways: none missing, none extra. */
const keys = <T>(o: Record<keyof T, 0>) => Object.keys(o);
const KEYS = {
  root: keys<AssensoConfig>({
    siteId: 0,
    endpoint: 0,
    revision: 0,
    lifetimeDays: 0,
    language: 0,
    languages: 0,
    privacyPolicyUrl: 0,
    categories: 0,
    texts: 0,
    layout: 0,
    theme: 0,
    themeTokens: 0,
    cookie: 0,
    consentMode: 0,
    gpc: 0,
  }),
  category: keys<CategoryConfig>({
    id: 0,
    required: 0,
    title: 0,
    description: 0,
    lifetimeDays: 0,
    gpc: 0,
    services: 0,
  }),
  service: keys<ServiceConfig>({
    id: 0,
    name: 0,
    provider: 0,
    purpose: 0,
    privacyUrl: 0,
    cookies: 0,
    storageKeys: 0,
    domains: 0,
  }),
  cookieSpec: keys<CookieSpec>({ name: 0, domain: 0, path: 0, duration: 0, purpose: 0 }),
  consentMode: keys<ConsentModeConfig>({
    mapping: 0,
    waitForUpdate: 0,
    adsDataRedaction: 0,
    urlPassthrough: 0,
  }),
  cookie: keys<CookieConfig>({ name: 0, domain: 0, path: 0, sameSite: 0 }),
  texts: keys<Messages>({
    bannerTitle: 0,
    bannerText: 0,
    acceptAll: 0,
    rejectAll: 0,
    customise: 0,
    closeBanner: 0,
    reasonRevision: 0,
    reasonExpired: 0,
    gpcHonoured: 0,
    privacyPolicy: 0,
    saved: 0,
    prefsFailed: 0,
    and: 0,
    linkFailed: 0,
    prefsTitle: 0,
    prefsIntro: 0,
    save: 0,
    alwaysOn: 0,
    showServices: 0,
    cookies: 0,
    cookieName: 0,
    cookieDuration: 0,
    cookiePurpose: 0,
    providedBy: 0,
    servicePrivacy: 0,
    downloadReceipt: 0,
    closePrefs: 0,
  }),
};

/** Edit distance (Levenshtein) between two keys. */
const distance = (a: string, b: string) => {
  let row = [...Array(b.length + 1).keys()];
  for (const [i, x] of [...a].entries()) {
    const next = [i + 1];
    for (const [j, y] of [...b].entries())
      next.push(Math.min(row[j + 1]! + 1, next[j]! + 1, row[j]! + Number(x !== y)));
    row = next;
  }
  return row[b.length]!;
};

/**
 * The known key a stranger most likely meant: the same in another case (`consentmode`), one it begins
 * (`lifetime`), or one a typo or two away (`cookie`, `categoriez`). A short key needs a closer match: `ix` is
 * one letter from `id`, as are many words.
 */
const closest = (key: string, known: string[]) => {
  const k = key.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const x of known) {
    const l = x.toLowerCase();
    const d = l === k ? 0 : k.length > 3 && l.startsWith(k) ? 1 : distance(k, l);
    if (d < min && d < k.length / 2) [best, min] = [x, d];
  }
  return best;
};

/** Theme tokens the UI applies (src/ui/styles.ts): custom property names only, string values. */
const TOKEN = /^--assenso-[a-z0-9-]+$/;
/** The tokens the widget's styles read (docs/embedding.md): a colour each with its `-dark` twin, and two more. */
export const TOKENS = [
  ...['bg', 'fg', 'muted', 'accent', 'accent-fg', 'border'].flatMap((t) => [
    `--assenso-${t}`,
    `--assenso-${t}-dark`,
  ]),
  '--assenso-radius',
  '--assenso-font',
];

/**
 * What checkConfig, in the script tag's first file, leaves to this chunk: checks whose outcome is already
 * safe there, and that need not delay the banner.
 * - Keys valid alone but not together (a forced language the site does not offer is passed over for the
 *   page's); a text, link or theme token the UI passes over (a blank text for the built-in one, a
 *   `javascript:` link for none).
 * - With `raw`, the configuration as the page gave it: keys that are no setting (a misspelt `consentmode`
 *   turns Consent Mode off; a misspelt `cookie` clears nothing on withdrawal), and cookie patterns that name
 *   the consent cookie. Paths are the page's own (`categories[2]`), which the resolved configuration lost.
 */
export function crossCheck(cfg: ResolvedConfig, raw?: unknown): Issue[] {
  const out: Issue[] = [];
  /** Each key of `o` that is no setting, once, with the closest setting when there is one. */
  const strangers = (o: unknown, path: string, known: string[]) => {
    if (isObj(o))
      for (const k of Object.keys(o))
        if (!known.includes(k)) {
          const near = closest(k, known);
          out.push(near ? [path + k, 'near', near] : [path + k, 'unknown']);
        }
  };
  const list = (v: unknown): [number, Any][] => (Array.isArray(v) ? [...v.entries()] : []);
  if (isObj(raw)) {
    strangers(raw, '', KEYS.root);
    for (const [i, cat] of list(raw.categories)) {
      const p = `categories[${i}].`;
      strangers(cat, p, KEYS.category);
      for (const [j, s] of list(cat?.services)) {
        const q = `${p}services[${j}].`;
        strangers(s, q, KEYS.service);
        if (isStr(s?.privacyUrl) && !safeUrl(s.privacyUrl)) out.push([`${q}privacyUrl`, 'link']);
        for (const [n, k] of list(s?.cookies)) {
          strangers(k, `${q}cookies[${n}].`, KEYS.cookieSpec);
          // Clearing passes the consent cookie over (clear.ts); a required category's service that lists it,
          // to show it in the cookie table, is never withdrawn.
          if (cat.required !== true && isCookieName(k?.name) && matches(k.name, cfg.cookie.name))
            out.push([`${q}cookies[${n}].name`, 'ckOwn', cfg.cookie.name]);
        }
      }
    }
    strangers(raw.consentMode, 'consentMode.', KEYS.consentMode);
    strangers(raw.cookie, 'cookie.', KEYS.cookie);
  }
  const primary = (tag: string) => tag.toLowerCase().split('-')[0];
  const l = cfg.language?.toLowerCase();
  if (l && !cfg.languages.some((x) => [l, primary(l)].includes(x.toLowerCase())))
    out.push(['language', 'unlisted', cfg.languages.join(', ')]);
  // A Consent Mode type the site mapped to a category it does not have stays denied for good. (The defaults
  // name `functional` and `marketing`, which a site may well not have: only other mappings are checked, by
  // value: this chunk has its own copy of the defaults.)
  const ids = cfg.categories.map((c) => c.id);
  for (const [type, cats] of Object.entries((cfg.consentMode || undefined)?.mapping ?? {}) as [
    string,
    string[],
  ][])
    if (`${cats}` !== `${DEFAULT_CONSENT_MODE[type as GoogleConsentType]}`)
      for (const id of cats)
        if (!ids.includes(id)) out.push([`consentMode.mapping.${type}`, 'unknownCat', id, ids.join(', ')]);
  // Every category can be refused: nothing says what the site needs to work (docs/embedding.md asks for one).
  if (ids.length && !cfg.categories.some((c) => c.required)) out.push(['categories', 'noRequired']);
  const url: Localized = cfg.privacyPolicyUrl ?? {};
  for (const [lang, u] of typeof url === 'string' ? [['', url]] : Object.entries(url))
    if (!safeUrl(u)) out.push([`privacyPolicyUrl${lang && `.${lang}`}`, 'link']);
  // `texts` and `themeTokens` are the page's own objects (checkConfig checks only their shape).
  for (const [lang, texts] of Object.entries(cfg.texts)) {
    // Texts of a language the widget never speaks (not offered in `languages`) are never shown.
    if (!cfg.languages.some((x) => primary(x) === primary(lang)))
      out.push([`texts.${lang}`, 'unlisted', cfg.languages.join(', ')]);
    strangers(texts, `texts.${lang}.`, KEYS.texts);
    for (const [key, v] of Object.entries(texts))
      if (KEYS.texts.includes(key) && !(typeof v === 'string' && v.trim()))
        out.push([`texts.${lang}.${key}`, 'msg']);
  }
  for (const [name, v] of Object.entries(cfg.themeTokens)) {
    const near = closest(name, TOKENS);
    // A well-formed name the styles never read (a typo: `--assenso-acent`) changed nothing, silently.
    if (!(TOKEN.test(name) && typeof v === 'string')) out.push([`themeTokens.${name}`, 'token']);
    else if (!TOKENS.includes(name))
      out.push(near ? [`themeTokens.${name}`, 'nearToken', near] : [`themeTokens.${name}`, 'noToken']);
  }
  return out;
}

/**
 * Validates the host configuration: every bad key gets ONE warning naming it and the fix, and is replaced by
 * a safe default; never throws (the host page must keep working whatever it passes).
 */
export function resolveConfig(
  input: unknown,
  warn: (msg: string) => void = (m) => console.warn(m),
): ResolvedConfig {
  const cfg = checkConfig(input, (issue) => warn(explain(issue)));
  for (const issue of crossCheck(cfg, input)) warn(explain(issue));
  return cfg;
}
