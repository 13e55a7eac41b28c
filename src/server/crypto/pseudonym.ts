/**
 * @module
 * Keyed pseudonyms (HMAC-SHA256 with a server secret that never enters the database).
 *
 * A site's user id, an email address or a pairing code is never stored as such: the server stores its keyed
 * hash. Without the secret, a copy of the database cannot be joined back to people by hashing guesses (a plain
 * SHA-256 of an email can). The secret comes from `ASSENSO_PSEUDONYM_SECRET` (several instances must share it)
 * or from `<dataDir>/secrets/pseudonym.key` (mode 0600, created on first start).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Shortest secret accepted, in bytes: HMAC-SHA256 gains nothing from more than its block's worth, but 32 is the floor. */
export const MIN_SECRET_BYTES = 32;

export interface Pseudonymizer {
  /**
   * The pseudonymous subject id of a site's user: `s_` + base64url(HMAC(secret, "subject" ∥ site ∥ user)), parts length-prefixed.
   * Stable for the same site, user id and secret; unrelated across sites.
   * @example createPseudonymizer(secret).subjectId('shop', 'user-42') // 's_Qm9…'
   */
  subjectId(siteId: string, externalId: string): string;
  /**
   * Keyed hash of any value, separated by `kind` so that a hash of one kind can never match another
   * (e.g. `hash('email', 'a@b.it')`, `hash('pairing', code)`). Lower-case hex, 64 digits.
   */
  hash(kind: string, value: string): string;
}

/** Raised at start-up when the configured secret is unusable; names the setting to fix. */
export class PseudonymSecretError extends Error {
  override name = 'PseudonymSecretError';
}

/** Builds a pseudonymizer from the secret (bytes, or a string taken as UTF-8). */
export function createPseudonymizer(secret: Uint8Array | string): Pseudonymizer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < MIN_SECRET_BYTES) {
    throw new PseudonymSecretError(`the pseudonym secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  // Each part is prefixed by its length, so no two different part lists hash the same input
  // (("a", "b:c") and ("a:b", "c") differ), whatever characters a user id holds.
  const mac = (...parts: string[]) =>
    createHmac('sha256', key)
      .update(parts.map((part) => `${Buffer.byteLength(part, 'utf8')}:${part}`).join(''), 'utf8')
      .digest();
  return {
    subjectId: (siteId, externalId) => `s_${mac('subject', siteId, externalId).toString('base64url')}`,
    hash: (kind, value) => mac(kind, value).toString('hex'),
  };
}

/** A subject id for a person known only by their devices (pairing without login): random, same shape. */
export function randomSubjectId(): string {
  return `s_${randomBytes(32).toString('base64url')}`;
}

/**
 * Loads the secret from `env.ASSENSO_PSEUDONYM_SECRET`, else from `<dataDir>/secrets/pseudonym.key`, creating
 * that file (0600, 32 random bytes, base64url) when missing, unless `create` is false (the commands: run from
 * another directory, a new secret made other pseudonyms, links for a person who is nobody). Without either,
 * throws naming both options.
 */
export async function loadPseudonymSecret(opts: {
  dataDir?: string;
  env?: Record<string, string | undefined>;
  create?: boolean;
}): Promise<string> {
  const fromEnv = opts.env?.ASSENSO_PSEUDONYM_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (Buffer.byteLength(fromEnv, 'utf8') < MIN_SECRET_BYTES) {
      throw new PseudonymSecretError(
        `ASSENSO_PSEUDONYM_SECRET is too short: use at least ${MIN_SECRET_BYTES} random bytes (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    return fromEnv;
  }
  if (!opts.dataDir) {
    throw new PseudonymSecretError(
      'no pseudonym secret: set ASSENSO_PSEUDONYM_SECRET or give the server a data directory',
    );
  }
  const dir = join(opts.dataDir, 'secrets');
  const file = join(dir, 'pseudonym.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (opts.create === false)
      throw new PseudonymSecretError(
        `no pseudonym secret at ${file}: run the command with the server's configuration (--config, its dataDir) or set ASSENSO_PSEUDONYM_SECRET (only \`assenso serve\` creates the file)`,
      );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  try {
    // `wx`: when two instances start at once on one directory, the second reads the first one's secret.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw err;
  }
  await chmod(file, 0o600);
  return secret;
}
