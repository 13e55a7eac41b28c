/**
 * @module
 * Server configuration: a JSON file (`--config`, `ASSENSO_CONFIG`, or `./assenso.config.json` when present)
 * and environment variables, validated once at start. A bad key throws `ConfigError` naming the key, so a
 * misconfigured server never starts half-working.
 *
 * Other parts of the server add their keys here with small edits: per-site keys go in `SITE_ENTRIES`,
 * server-wide keys in `CONFIG_ENTRIES`. Both objects are strict: a misspelt key is an error, not a silent no-op.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as v from 'valibot';
import { SiteIdSchema } from '../protocol/receipt.ts';
import { EMAIL_SITE_ENTRIES } from './email/config-schema.ts';
import { RETENTION_CONFIG_ENTRY } from './protection/retention-policy.ts';
import { IDENTITY_SITE_ENTRIES } from './identity/config-schema.ts';

/** The configuration cannot be used; the message names the key (`sites[0].origins[1]: …`). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An origin as browsers send it: scheme, host and optional port; never `null`, `*` or a path. */
const OriginSchema = v.pipe(
  v.string(),
  v.check((s) => isOrigin(s), 'must be an origin like https://example.com (scheme, host, optional port)'),
  v.transform((s) => new URL(s).origin),
);

function isOrigin(s: string): boolean {
  try {
    const url = new URL(s);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.pathname === '/' &&
      !s.endsWith('//') &&
      !url.search &&
      !url.hash &&
      !url.username &&
      !url.password &&
      !/[?#]/.test(s)
    );
  } catch {
    return false;
  }
}

const CookieNameSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a cookie name token'));

/**
 * First-party mode (Safari ITP): when the server is reached under the site's own origin through a reverse
 * proxy, the receipts answer sets the consent cookie itself (see docs/server.md).
 */
const FirstPartyCookieSchema = v.strictObject({
  /** Cookie name, the same the widget writes (docs/cookie.md). */
  name: CookieNameSchema,
  /** Cookie `Domain` (e.g. `example.com` to cover subdomains); host-only when absent. */
  domain: v.optional(v.pipe(v.string(), v.regex(/^\.?[a-z0-9.-]+$/i, 'must be a domain name'))),
  /** Cookie `Path`. */
  path: v.optional(v.pipe(v.string(), v.startsWith('/')), '/'),
});

/** Per-site keys. Others add theirs here (one line each, documented). */
export const SITE_ENTRIES = {
  id: SiteIdSchema,
  /** Display name (preference page, emails). Rendered as text, never as HTML. */
  name: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  /** Origins whose pages may send receipts for this site (CORS and server-side Origin check). */
  origins: v.pipe(v.array(OriginSchema), v.minLength(1)),
  /**
   * Unused, accepted so that older configuration files still load: a decision's lifetimes are the widget's
   * (its categories' `lifetimeDays`), bounded here by MAX_LIFETIME_DAYS (services/consent-lifetime.ts).
   */
  lifetimeDays: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3650)), 365),
  firstPartyCookie: v.optional(FirstPartyCookieSchema),
  /** Communication purposes and channels, email-link settings, webhooks (email/config-schema.ts). */
  ...EMAIL_SITE_ENTRIES,
  /** Identity-token secrets by kid (identity/config-schema.ts). */
  ...IDENTITY_SITE_ENTRIES,
};

export const SiteSchema = v.strictObject(SITE_ENTRIES);

const RateLimitSchema = v.strictObject({
  /** Length of the fixed window, in seconds. */
  windowSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3600)), 60),
  /** Receipt POSTs per client IP per window. */
  receipts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 600),
  /** Other API requests (reads) per client IP per window. */
  reads: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1200),
});

/** Server-wide keys. Others add theirs here. */
export const CONFIG_ENTRIES = {
  sites: v.pipe(
    v.array(SiteSchema),
    v.check((sites) => new Set(sites.map((s) => s.id)).size === sites.length, 'site ids must be unique'),
  ),
  /** The URL the server is reached at from outside (links in emails, the hosted preference page). */
  publicUrl: v.optional(v.pipe(v.string(), v.url('must be an absolute URL'))),
  /** Where PGlite data and signing keys live (relative to the working directory). */
  dataDir: v.optional(v.pipe(v.string(), v.minLength(1)), './data'),
  /** Rate limits; `false` turns them off (tests, a server behind a limiting gateway). */
  rateLimit: v.optional(v.union([v.literal(false), RateLimitSchema]), {}),
  /**
   * Whether to believe `X-Forwarded-For`/`X-Forwarded-Host`/`X-Forwarded-Proto`: `true` for one proxy in front,
   * or the number of proxies. Off by default: a client could otherwise choose its own rate-limit key.
   */
  trustProxy: v.optional(v.union([v.boolean(), v.pipe(v.number(), v.integer(), v.minValue(0))]), false),
  /** pino log level. */
  logLevel: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  /** How long each kind of data is kept, and the schedule that enforces it (protection/retention-policy.ts). */
  retention: RETENTION_CONFIG_ENTRY,
};

export const ConfigSchema = v.strictObject(CONFIG_ENTRIES);

export type ServerConfig = v.InferOutput<typeof ConfigSchema>;
export type SiteConfig = v.InferOutput<typeof SiteSchema>;
export type RateLimitConfig = v.InferOutput<typeof RateLimitSchema>;

/** One issue as `path: message`; a strict object's issues say `required` or `unknown key`. */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = v.getDotPath(issue) ?? '(root)';
  if (issue.type === 'strict_object')
    return `${path}: ${issue.input === undefined ? 'required' : 'unknown key'}`;
  return `${path}: ${issue.message}`;
}

/** Validates a configuration value; throws `ConfigError` naming every bad key (the first five). */
export function parseConfig(value: unknown, source = 'config'): ServerConfig {
  const result = v.safeParse(ConfigSchema, value);
  if (result.success) return result.output;
  throw new ConfigError(`${source}: ${result.issues.slice(0, 5).map(describeIssue).join('; ')}`);
}

export interface LoadConfigOptions {
  /** `--config` from the command line. */
  configPath?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Reads and validates the configuration. Sources, later ones winning per key:
 * the file (`configPath`, else `ASSENSO_CONFIG`, else `./assenso.config.json` if it exists), then
 * `ASSENSO_SITES` (JSON array of sites), `ASSENSO_PUBLIC_URL`, `ASSENSO_DATA_DIR`, `ASSENSO_TRUST_PROXY`.
 *
 * @example
 * const config = await loadConfig({ configPath: args.config, env: process.env });
 */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<ServerConfig> {
  const env = opts.env ?? {};
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.configPath ?? env.ASSENSO_CONFIG;
  const file = explicit
    ? resolve(cwd, explicit)
    : existsSync(resolve(cwd, 'assenso.config.json'))
      ? resolve(cwd, 'assenso.config.json')
      : undefined;
  let value: Record<string, unknown> = {};
  let source = 'environment';
  if (file) {
    source = file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    const parsed = parseJson(text, file);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConfigError(`${file}: (root): must be a JSON object`);
    value = parsed as Record<string, unknown>;
  }
  if (env.ASSENSO_SITES) {
    value = { ...value, sites: parseJson(env.ASSENSO_SITES, 'ASSENSO_SITES') };
    source = file ? `${file} + environment` : 'environment';
  }
  if (env.ASSENSO_PUBLIC_URL) value = { ...value, publicUrl: env.ASSENSO_PUBLIC_URL };
  if (env.ASSENSO_DATA_DIR) value = { ...value, dataDir: env.ASSENSO_DATA_DIR };
  if (env.ASSENSO_TRUST_PROXY) value = { ...value, trustProxy: parseTrustProxy(env.ASSENSO_TRUST_PROXY) };
  value.sites ??= [];
  return parseConfig(value, source);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
}

function parseTrustProxy(text: string): boolean | number {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError('ASSENSO_TRUST_PROXY: must be true, false or a count');
  return n;
}

/** The site with this id, or undefined. */
export function findSite(config: ServerConfig, siteId: string): SiteConfig | undefined {
  return config.sites.find((s) => s.id === siteId);
}
