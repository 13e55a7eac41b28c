/**
 * @module
 * The link-signing keys (HMAC-SHA256) for email-link tokens.
 *
 * Keys come from `ASSENSO_LINK_KEYS` (a JSON array: every instance of a deployment must share them) or from
 * `<dataDir>/link-keys.json` (mode 0600, created on first start). Each key is
 * `{ kid, secret (base64url, ≥ 32 bytes), createdAt (epoch ms), retiredAt? }`. The newest key that is not
 * retired signs; a retired key revokes every token it signed. Keys never go to the database.
 * `assenso links rotate-key` adds a key and, with `--retire-previous`, retires the others.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import type { LinkKey, LinkKeySource } from './tokens.ts';

export const LINK_KEYS_ENV = 'ASSENSO_LINK_KEYS';
export const LINK_KEYS_FILE = 'link-keys.json';

/** The link keys cannot be used (bad JSON, short secret, nothing left to sign with, file readable by others). */
export class LinkKeyConfigError extends Error {
  override name = 'LinkKeyConfigError';
}

const StoredLinkKeySchema = v.strictObject({
  kid: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,32}$/)),
  secret: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43,}$/, 'must be base64url of at least 32 bytes')),
  createdAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  retiredAt: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
const StoredLinkKeysSchema = v.pipe(v.array(StoredLinkKeySchema), v.minLength(1));
export type StoredLinkKey = v.InferOutput<typeof StoredLinkKeySchema>;

/** A new random key (256 bits). */
export function generateLinkKey(now: number): StoredLinkKey {
  return {
    kid: randomBytes(6).toString('base64url'),
    secret: randomBytes(32).toString('base64url'),
    createdAt: now,
  };
}

/** Parses stored keys; throws LinkKeyConfigError naming the problem. */
export function parseLinkKeys(input: unknown, where: string): StoredLinkKey[] {
  const res = v.safeParse(StoredLinkKeysSchema, input);
  if (!res.success)
    throw new LinkKeyConfigError(
      `${where}: ${res.issues.map((i) => `${v.getDotPath(i) ?? '(keys)'}: ${i.message}`).join('; ')}`,
    );
  return res.output;
}

/** A key source over a fixed list (env, tests). The newest non-retired key signs. */
export function staticLinkKeys(stored: StoredLinkKey[], now: () => number = Date.now): LinkKeySource {
  const keys = new Map<string, LinkKey>(
    stored.map((k) => [
      k.kid,
      {
        kid: k.kid,
        secret: Buffer.from(k.secret, 'base64url'),
        createdAt: k.createdAt,
        ...(k.retiredAt !== undefined ? { retiredAt: k.retiredAt } : {}),
      },
    ]),
  );
  return {
    current() {
      const t = now();
      // Newest first; on equal times the key listed last wins (a rotation appends).
      const active = [...keys.values()]
        .map((k, i) => ({ k, i }))
        .filter(({ k }) => k.retiredAt === undefined || k.retiredAt > t)
        .sort((a, b) => b.k.createdAt - a.k.createdAt || b.i - a.i)
        .map(({ k }) => k);
      if (!active[0])
        throw new LinkKeyConfigError('every link-signing key is retired: add one (assenso links rotate-key)');
      return active[0];
    },
    get: (kid) => keys.get(kid),
  };
}

/** A key source that re-reads `<dataDir>/link-keys.json` when it changes, so a rotation reaches a running server. */
export interface FileLinkKeySource extends LinkKeySource {
  /** Reloads the file if its modification time changed (cheap: one stat). */
  refresh(): Promise<void>;
}

/**
 * Loads the link keys: from `env.ASSENSO_LINK_KEYS` when set, else from the data directory (created with one
 * fresh key on first start).
 */
export async function loadLinkKeys(opts: {
  env: Record<string, string | undefined>;
  dataDir: string;
  now?: () => number;
}): Promise<FileLinkKeySource> {
  const now = opts.now ?? Date.now;
  const raw = opts.env[LINK_KEYS_ENV];
  if (raw) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new LinkKeyConfigError(`${LINK_KEYS_ENV} is not valid JSON`);
    }
    const source = staticLinkKeys(parseLinkKeys(json, LINK_KEYS_ENV), now);
    source.current();
    return { ...source, refresh: async () => {} };
  }
  const file = join(opts.dataDir, LINK_KEYS_FILE);
  let mtime = -1;
  let source: LinkKeySource | undefined;
  const reload = async () => {
    const info = await stat(file).catch(() => undefined);
    if (!info) {
      await writeLinkKeys(opts.dataDir, [generateLinkKey(now())]);
      return reload();
    }
    if (info.mode & 0o077) throw new LinkKeyConfigError(`${file} is readable by others: chmod 600 it`);
    if (info.mtimeMs === mtime && source) return;
    const stored = parseLinkKeys(JSON.parse(await readFile(file, 'utf8')), file);
    source = staticLinkKeys(stored, now);
    mtime = info.mtimeMs;
  };
  await reload();
  source!.current();
  return {
    current: () => source!.current(),
    get: (kid) => source!.get(kid),
    refresh: reload,
  };
}

/** Reads the stored keys of a data directory (for the rotate command). */
export async function readLinkKeys(dataDir: string): Promise<StoredLinkKey[]> {
  const file = join(dataDir, LINK_KEYS_FILE);
  return parseLinkKeys(JSON.parse(await readFile(file, 'utf8')), file);
}

/** Writes the keys atomically with mode 0600. */
export async function writeLinkKeys(dataDir: string, keys: StoredLinkKey[]): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, LINK_KEYS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/**
 * Adds a new signing key; with `retirePrevious`, retires every other key now, which revokes every link they
 * signed. Returns the new key set.
 */
export function rotateLinkKeys(keys: StoredLinkKey[], now: number, retirePrevious: boolean): StoredLinkKey[] {
  const next = keys.map((k) => (retirePrevious && k.retiredAt === undefined ? { ...k, retiredAt: now } : k));
  return [...next, generateLinkKey(now)];
}
