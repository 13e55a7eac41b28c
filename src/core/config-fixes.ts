import { checkConfig, DEFAULT_CONSENT_MODE, type Issue, MAX_LIFETIME_DAYS } from './config.ts';
import type { GoogleConsentType, ResolvedConfig } from './types.ts';

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
  item: 'must be an object; item ignored',
  array: 'must be an array',
  type: 'has the wrong type; ignored',
  cookieName: 'must be a cookie name or a prefix like "_ga*"; item ignored',
  name: 'must be a non-empty string; using the id',
  keys: 'must be an array of key names',
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
  path: 'must start with "/"',
  sameSite: 'must be Lax, Strict or None',
  oneOf: 'must be one of {0}; using {1}',
  endpoint: 'must be an http(s) URL or a path; receipts stay on the device',
  revision: 'must be a string of 1 to 64 characters like "2026-05"; using "1"',
  language: 'must be a language tag like "it" or "pt-BR"',
  unlisted: 'is not in config.languages ({0}); ignored',
  languages: 'must be a non-empty array of language tags like "it"',
  privacy: 'must be a URL or { lang: URL }',
  texts: 'must be { lang: { key: text } }',
  tokens: 'must be { "--assenso-…": value }',
} as const;

export type Fix = keyof typeof FIXES;

/** The console warning for one bad key: `[assenso] config.<path>: <fix>`. */
export const explain = ([path, fix, ...values]: Issue): string =>
  `[assenso] config.${path}: ${FIXES[fix].replace(/\{(\d)\}/g, (_, n: string) => values[Number(n)] ?? '')}`;

/**
 * Keys valid alone but not together. What they do is already safe (a forced language the site does not offer
 * is passed over for the page's), so they are checked here, off the script tag's first file.
 */
export function crossCheck(cfg: ResolvedConfig): Issue[] {
  const out: Issue[] = [];
  const l = cfg.language?.toLowerCase();
  if (l && !cfg.languages.some((x) => [l, l.split('-')[0]].includes(x.toLowerCase())))
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
  for (const issue of crossCheck(cfg)) warn(explain(issue));
  return cfg;
}
