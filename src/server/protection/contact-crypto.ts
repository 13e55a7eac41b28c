/**
 * @module
 * Envelope encryption of contact data (AES-256-GCM, node:crypto), with operator-supplied, rotatable keys.
 *
 * Each value gets a fresh 256-bit data key (DEK). The value is encrypted under the DEK; the DEK is encrypted
 * ("wrapped") under a key-encryption key (KEK) named by its key id. The stored form is one string:
 *
 *   v1.<kid>.<wrappedDek>.<iv>.<ciphertext>.<tag>     (base64url parts; wrappedDek = iv ∥ ciphertext ∥ tag)
 *
 * KEKs come from the operator (`ASSENSO_CONTACT_KEYS` JSON, or the file `ASSENSO_CONTACT_KEYS_FILE`) and are
 * never written to the database: a copy of the database alone reveals no address. The additional
 * authenticated data (AAD) binds each ciphertext to its row (site, subject, field) and to the key id, so a
 * value copied onto another row, or relabelled with another kid, fails to decrypt instead of being read as
 * someone else's address.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The KEKs: the current one encrypts; every listed key decrypts; retired kids are known but unusable. */
export interface ContactKeys {
  current: string;
  keys: Record<string, Uint8Array>;
  /** Kids whose key was removed after rotation: values still under them are reported, not silently lost. */
  retired: string[];
}

/** The row a value belongs to: its ciphertext cannot be moved to another row. */
export interface ContactAad {
  siteId: string;
  subjectId: string;
  field: string;
}

export interface ContactCrypto {
  /** The kid new values are encrypted under. */
  readonly currentKid: string;
  encrypt(plain: string, aad: ContactAad): string;
  /** Throws `RetiredKeyError`, `UnknownKeyError` or `ContactDecryptError` (tampered, moved or malformed). */
  decrypt(stored: string, aad: ContactAad): string;
  /** Whether the value is under another key than the current one (rotation re-encrypts it). */
  needsRotation(stored: string): boolean;
  /** The kid a stored value is under (without decrypting). */
  keyIdOf(stored: string): string;
  /** Whether this instance holds the key material for `kid`. */
  canDecrypt(kid: string): boolean;
}

/** The configured keys are unusable: names the setting to fix. */
export class ContactKeyConfigError extends Error {
  override name = 'ContactKeyConfigError';
}

/** The value is under a key the operator retired (and removed): restore the key, then run `keys rotate`. */
export class RetiredKeyError extends Error {
  override name = 'RetiredKeyError';
  constructor(readonly kid: string) {
    super(
      `contact value is encrypted under the retired key "${kid}": restore that key and run \`assenso keys rotate\``,
    );
  }
}

/** The value names a key id this server was never given. */
export class UnknownKeyError extends Error {
  override name = 'UnknownKeyError';
  constructor(readonly kid: string) {
    super(`contact value is encrypted under the unknown key "${kid}"`);
  }
}

/** The value does not decrypt: malformed, tampered with, or moved from another row. */
export class ContactDecryptError extends Error {
  override name = 'ContactDecryptError';
}

const KID = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url');
// NUL cannot appear in site ids, subject ids or field names, so the parts cannot be shifted into each other.
const aadBytes = (kid: string, aad: ContactAad) =>
  Buffer.from(['assenso-contact', VERSION, kid, aad.siteId, aad.subjectId, aad.field].join('\0'), 'utf8');
const dekAad = (kid: string) => Buffer.from(`assenso-dek\0${VERSION}\0${kid}`, 'utf8');

function seal(key: Uint8Array, plain: Uint8Array, aad: Buffer) {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { iv, ct, tag: cipher.getAuthTag() };
}

function open(key: Uint8Array, iv: Buffer, ct: Buffer, tag: Buffer, aad: Buffer): Buffer {
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
    throw new ContactDecryptError('malformed contact value');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new ContactDecryptError('contact value does not decrypt: tampered with, or moved from another row');
  }
}

function parse(stored: string) {
  const parts = stored.split('.');
  if (parts.length !== 6 || parts[0] !== VERSION)
    throw new ContactDecryptError('not an encrypted contact value');
  const [, kid, wrapped, iv, ct, tag] = parts as [string, string, string, string, string, string];
  return { kid, wrapped: unb64(wrapped), iv: unb64(iv), ct: unb64(ct), tag: unb64(tag) };
}

/**
 * Builds the encrypter from validated keys (see `parseContactKeys`).
 *
 * @example
 * const crypto = createContactCrypto(parseContactKeys(process.env.ASSENSO_CONTACT_KEYS!));
 * const stored = crypto.encrypt('ada@example.com', { siteId: 'shop', subjectId: 's_…', field: 'email' });
 * crypto.decrypt(stored, { siteId: 'shop', subjectId: 's_…', field: 'email' }); // 'ada@example.com'
 */
export function createContactCrypto(keys: ContactKeys): ContactCrypto {
  const current = keys.keys[keys.current];
  if (!current)
    throw new ContactKeyConfigError(`the current contact key "${keys.current}" is not among the keys`);
  const retired = new Set(keys.retired);
  const keyFor = (kid: string) => {
    const key = keys.keys[kid];
    if (key) return key;
    throw retired.has(kid) ? new RetiredKeyError(kid) : new UnknownKeyError(kid);
  };
  return {
    currentKid: keys.current,
    encrypt(plain, aad) {
      const dek = randomBytes(KEY_BYTES);
      try {
        const w = seal(current, dek, dekAad(keys.current));
        const v = seal(dek, Buffer.from(plain, 'utf8'), aadBytes(keys.current, aad));
        return [
          VERSION,
          keys.current,
          b64(Buffer.concat([w.iv, w.ct, w.tag])),
          b64(v.iv),
          b64(v.ct),
          b64(v.tag),
        ].join('.');
      } finally {
        dek.fill(0);
      }
    },
    decrypt(stored, aad) {
      const p = parse(stored);
      const kek = keyFor(p.kid);
      if (p.wrapped.length !== IV_BYTES + KEY_BYTES + TAG_BYTES)
        throw new ContactDecryptError('malformed data key');
      const dek = open(
        kek,
        p.wrapped.subarray(0, IV_BYTES),
        p.wrapped.subarray(IV_BYTES, IV_BYTES + KEY_BYTES),
        p.wrapped.subarray(IV_BYTES + KEY_BYTES),
        dekAad(p.kid),
      );
      try {
        return open(dek, p.iv, p.ct, p.tag, aadBytes(p.kid, aad)).toString('utf8');
      } finally {
        dek.fill(0);
      }
    },
    needsRotation: (stored) => parse(stored).kid !== keys.current,
    keyIdOf: (stored) => parse(stored).kid,
    canDecrypt: (kid) => kid in keys.keys,
  };
}

/** Validates `{ current, keys: { kid: base64 of 32 bytes }, retired?: [kid] }` (JSON text or parsed). */
export function parseContactKeys(json: string | unknown, source = 'ASSENSO_CONTACT_KEYS'): ContactKeys {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      throw new ContactKeyConfigError(`${source} is not valid JSON`);
    }
  }
  const v = value as { current?: unknown; keys?: unknown; retired?: unknown };
  if (!v || typeof v !== 'object') throw new ContactKeyConfigError(`${source} must be a JSON object`);
  if (typeof v.current !== 'string' || !KID.test(v.current))
    throw new ContactKeyConfigError(`${source}.current must be a key id (letters, digits, - and _)`);
  if (!v.keys || typeof v.keys !== 'object' || Array.isArray(v.keys))
    throw new ContactKeyConfigError(`${source}.keys must be an object { kid: base64 of 32 random bytes }`);
  const keys: Record<string, Uint8Array> = {};
  for (const [kid, material] of Object.entries(v.keys as Record<string, unknown>)) {
    if (!KID.test(kid)) throw new ContactKeyConfigError(`${source}.keys: "${kid}" is not a valid key id`);
    const bytes = typeof material === 'string' ? Buffer.from(material, 'base64') : undefined;
    if (!bytes || bytes.length !== KEY_BYTES)
      throw new ContactKeyConfigError(
        `${source}.keys.${kid} must be base64 of exactly 32 bytes (openssl rand -base64 32)`,
      );
    keys[kid] = bytes;
  }
  const retired = v.retired ?? [];
  if (!Array.isArray(retired) || !retired.every((k) => typeof k === 'string' && KID.test(k)))
    throw new ContactKeyConfigError(`${source}.retired must be an array of key ids`);
  if (!keys[v.current])
    throw new ContactKeyConfigError(`${source}.current "${v.current}" is not among the keys`);
  if (retired.includes(v.current))
    throw new ContactKeyConfigError(`${source}.current "${v.current}" is retired`);
  return { current: v.current, keys, retired };
}

/**
 * Loads the KEKs: from `ASSENSO_CONTACT_KEYS` (JSON), else the file named by `ASSENSO_CONTACT_KEYS_FILE`, else
 * `<dataDir>/secrets/contact-keys.json` (created on first start with one random key, mode 0600, so that a
 * zero-set-up server works; production deployments bring their own). Null when none applies.
 */
export async function loadContactKeys(opts: {
  env?: Record<string, string | undefined>;
  dataDir?: string;
  /** False for the commands: a missing file is no keys, not new ones (only `serve` creates it). */
  create?: boolean;
}): Promise<ContactKeys | null> {
  const inline = opts.env?.ASSENSO_CONTACT_KEYS;
  if (inline?.trim()) return parseContactKeys(inline);
  const named = opts.env?.ASSENSO_CONTACT_KEYS_FILE;
  const file = named || (opts.dataDir ? join(opts.dataDir, 'secrets', 'contact-keys.json') : undefined);
  if (!file) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (named || code !== 'ENOENT')
      throw new ContactKeyConfigError(
        `cannot read the contact keys file ${file} (${(err as Error).message})`,
      );
    if (opts.create === false) return null;
    text = await createKeyFile(file);
  }
  return parseContactKeys(text, file);
}

async function createKeyFile(file: string): Promise<string> {
  const kid = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
  const text = `${JSON.stringify({ current: kid, keys: { [kid]: randomBytes(KEY_BYTES).toString('base64') }, retired: [] }, null, 2)}\n`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: two instances starting at once on one directory end up with the first one's keys.
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFile(file, 'utf8');
    throw err;
  }
  await chmod(file, 0o600);
  return text;
}
