/**
 * @module
 * The server's Ed25519 signing keys: they sign every stored receipt and every checkpoint of the log.
 *
 * Keys come from `ASSENSO_SIGNING_KEYS` (a JSON array, for containers and multi-instance deployments that must
 * all sign with the same keys) or from `<dataDir>/keys/<kid>.json` files (mode 0600, created on first start).
 * The newest key that is not retired signs; every key, retired or not, still verifies: a receipt signed years
 * ago must stay checkable. Private keys live only there, never in the database.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as v from 'valibot';

/** A public key as published at GET /v1/keys. */
export interface SigningKey {
  /** First 16 hex digits of SHA-256 of the raw 32-byte public key. */
  kid: string;
  /** Base64url of the raw 32-byte Ed25519 public key. */
  publicKey: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms since when the key no longer signs (it still verifies). */
  retiredAt?: number;
}

export interface Keyring {
  /** Signs bytes with the current key. */
  sign(data: Uint8Array): { kid: string; sig: string /* base64url */ };
  /**
   * Signs the UTF-8 bytes of each text with the current key: the same signatures as `sign`, one per text, in
   * order. Up to `SIGN_HERE_MAX` texts at once on this thread; more (a group commit of big batches) off the
   * main thread, on a worker thread started on first use, so the event loop serves requests meanwhile (about
   * 30-40 µs per signature). Never fails because of the worker: if it cannot start or dies, the texts are
   * signed here.
   */
  signMany(texts: readonly string[]): Promise<{ kid: string; sigs: string[] }>;
  /** Whether `sig` (base64url) is a valid signature of `data` by the key `kid`; false for an unknown kid. */
  verify(kid: string, data: Uint8Array, sig: string): boolean;
  /** Every known key, current first, then newest to oldest. */
  publicKeys(): SigningKey[];
}

/** A key as stored in a key file or in `ASSENSO_SIGNING_KEYS`: public data plus, to sign, the private half. */
export interface StoredKey extends SigningKey {
  /** Base64url of the raw 32-byte Ed25519 private key (the seed). Absent: the key only verifies. */
  privateKey?: string;
}

/** The key configuration is unusable (bad JSON, wrong kid, unsafe file permissions, nothing to sign with). */
export class KeyConfigError extends Error {
  override name = 'KeyConfigError';
}

const ENV_VAR = 'ASSENSO_SIGNING_KEYS';
const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

const StoredKeySchema = v.strictObject({
  kid: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/))),
  publicKey: v.pipe(v.string(), v.regex(B64URL_32, 'must be base64url of 32 bytes')),
  privateKey: v.optional(v.pipe(v.string(), v.regex(B64URL_32, 'must be base64url of 32 bytes'))),
  createdAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  retiredAt: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});

/** The key id of a raw Ed25519 public key (base64url or bytes). */
export function kidOf(publicKey: string | Uint8Array): string {
  const raw = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64url') : publicKey;
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** Verifies an Ed25519 signature with a raw public key (base64url): what an auditor does with GET /v1/keys. */
export function verifyWithPublicKey(publicKey: string, data: Uint8Array, sig: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return cryptoVerify(null, data, key, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

/** Makes a new Ed25519 key pair. */
export function generateSigningKey(now: number): StoredKey & { privateKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const publicKey = jwk.x as string;
  return { kid: kidOf(publicKey), publicKey, privateKey: jwk.d as string, createdAt: now };
}

/** Builds a keyring from stored keys. Throws `KeyConfigError` when a kid or key pair does not match. */
export function createKeyring(keys: readonly StoredKey[]): Keyring {
  const entries = keys.map((k) => {
    const kid = kidOf(k.publicKey);
    if (k.kid && k.kid !== kid)
      throw new KeyConfigError(`key ${k.kid}: kid does not match its public key (${kid})`);
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.publicKey }, format: 'jwk' });
    let priv: KeyObject | undefined;
    if (k.privateKey) {
      priv = createPrivateKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: k.publicKey, d: k.privateKey },
        format: 'jwk',
      });
      // A private key stored next to the wrong public key would sign receipts nobody can verify.
      if (createPublicKey(priv).export({ format: 'jwk' }).x !== k.publicKey)
        throw new KeyConfigError(`key ${kid}: private key does not belong to the public key`);
    }
    const info: SigningKey = { kid, publicKey: k.publicKey, createdAt: k.createdAt };
    if (k.retiredAt !== undefined) info.retiredAt = k.retiredAt;
    return { info, pub, priv };
  });
  const byKid = new Map(entries.map((e) => [e.info.kid, e]));
  const newestFirst = [...byKid.values()].sort(
    (a, b) => b.info.createdAt - a.info.createdAt || a.info.kid.localeCompare(b.info.kid),
  );
  const current = newestFirst.find((e) => e.priv && e.info.retiredAt === undefined);
  const ordered = current ? [current, ...newestFirst.filter((e) => e !== current)] : newestFirst;
  const signingKey = () => {
    if (!current?.priv) throw new KeyConfigError('no signing key: every key is retired or public-only');
    return { kid: current.info.kid, key: current.priv };
  };
  let worker: ReturnType<typeof createSignWorker> | undefined;
  return {
    sign(data) {
      const { kid, key } = signingKey();
      return { kid, sig: cryptoSign(null, data, key).toString('base64url') };
    },
    async signMany(texts) {
      const { kid, key } = signingKey();
      const here = () =>
        texts.map((t) => cryptoSign(null, Buffer.from(t, 'utf8'), key).toString('base64url'));
      // Up to a full batch (≤ 3 ms) here and now: handing texts to the worker and its answers back costs a
      // wake-up of each thread, which cost more than the signing it saved (PostgreSQL ingest on 2 cores, A/B:
      // +10% requests per second, -12% server CPU per request, one receipt per request; as good with 20).
      if (texts.length <= SIGN_HERE_MAX) return { kid, sigs: here() };
      worker ??= createSignWorker(key);
      const sigs = await worker(texts).catch(here);
      return { kid, sigs };
    },
    verify(kid, data, sig) {
      const e = byKid.get(kid);
      if (!e) return false;
      try {
        return cryptoVerify(null, data, e.pub, Buffer.from(sig, 'base64url'));
      } catch {
        return false;
      }
    },
    publicKeys: () => ordered.map((e) => ({ ...e.info })),
  };
}

/** Most texts `signMany` signs on the calling thread (one request's batch at most). */
export const SIGN_HERE_MAX = 100;

// The worker's whole program: plain JavaScript (no loader needed, the same from src/ and lib/).
const SIGN_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
parentPort.on('message', ({ id, texts }) => {
  try {
    parentPort.postMessage({ id, sigs: texts.map((t) => sign(null, Buffer.from(t, 'utf8'), workerData.key).toString('base64url')) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) });
  }
});`;

/**
 * A worker thread that signs with `key` (a KeyObject is cloned into it; it never leaves the process). It holds
 * the process open only while it has work; when it fails or exits, pending and later calls reject (the
 * caller then signs itself) and the next call starts a new one.
 */
function createSignWorker(key: KeyObject): (texts: readonly string[]) => Promise<string[]> {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (sigs: string[]) => void; reject: (err: Error) => void }>();
  const failAll = (err: Error) => {
    worker = undefined;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const start = () => {
    const w = new Worker(SIGN_WORKER, { eval: true, workerData: { key } });
    w.unref();
    w.on('message', (m: { id: number; sigs?: string[]; error?: string }) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.sigs) p?.resolve(m.sigs);
      else p?.reject(new Error(m.error ?? 'signing failed'));
    });
    w.on('error', failAll);
    w.on('exit', () => {
      if (worker === w) failAll(new Error('signing worker exited'));
    });
    return w;
  };
  return (texts) =>
    new Promise<string[]>((resolve, reject) => {
      try {
        worker ??= start();
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, texts });
      } catch (err) {
        reject(err as Error);
      }
    });
}

/** A keyring with one fresh key, in memory only (tests, `assenso` runs without a data directory). */
export function createMemoryKeyring(now: number = Date.now()): Keyring {
  return createKeyring([generateSigningKey(now)]);
}

function parseStoredKey(value: unknown, source: string): StoredKey {
  const result = v.safeParse(StoredKeySchema, value);
  if (!result.success) {
    const issue = result.issues[0];
    throw new KeyConfigError(`${source}: ${v.getDotPath(issue) ?? 'key'}: ${issue.message}`);
  }
  const kid = kidOf(result.output.publicKey);
  if (result.output.kid && result.output.kid !== kid)
    throw new KeyConfigError(`${source}: kid ${result.output.kid} does not match its public key (${kid})`);
  return { ...result.output, kid };
}

/** Parses `ASSENSO_SIGNING_KEYS`: one key object or an array of them. */
export function parseKeysEnv(json: string): StoredKey[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new KeyConfigError(`${ENV_VAR} is not valid JSON`);
  }
  const list = Array.isArray(value) ? value : [value];
  return list.map((k, i) => parseStoredKey(k, `${ENV_VAR}[${i}]`));
}

const keysDir = (dataDir: string) => join(dataDir, 'keys');

/** Reads `<dataDir>/keys/*.json`. Refuses files that group or others may read, as ssh does. */
export async function readKeyFiles(dataDir: string): Promise<StoredKey[]> {
  const dir = keysDir(dataDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const keys: StoredKey[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new KeyConfigError(`${file} is not valid JSON`);
    }
    const key = parseStoredKey(value, file);
    if (key.privateKey && process.platform !== 'win32' && ((await stat(file)).mode & 0o077) !== 0)
      throw new KeyConfigError(`${file} holds a private key and is readable by others: chmod 600 it`);
    keys.push(key);
  }
  return keys;
}

/** Writes (or rewrites) one key file with mode 0600 inside a 0700 `keys/` directory. */
export async function writeKeyFile(dataDir: string, key: StoredKey): Promise<string> {
  const dir = keysDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const kid = key.kid ?? kidOf(key.publicKey);
  const file = join(dir, `${kid}.json`);
  await writeFile(file, `${JSON.stringify({ ...key, kid }, null, 2)}\n`, { mode: 0o600 });
  // `mode` only applies when the file is created; an existing file keeps its mode unless we set it.
  await chmod(file, 0o600);
  return file;
}

/**
 * Loads the keyring: from `ASSENSO_SIGNING_KEYS` when set (files are then ignored), else from
 * `<dataDir>/keys/*.json`, creating a first key there when there is none. Without either, an in-memory key.
 *
 * @example
 * const keyring = await loadKeyring({ dataDir: './data', env: process.env });
 * const { kid, sig } = keyring.sign(new TextEncoder().encode(entry));
 */
export async function loadKeyring(opts: {
  dataDir?: string;
  env?: Record<string, string | undefined>;
  now?: () => number;
}): Promise<Keyring> {
  const now = opts.now ?? Date.now;
  const fromEnv = opts.env?.[ENV_VAR];
  if (fromEnv?.trim()) {
    const keys = parseKeysEnv(fromEnv);
    if (!keys.some(canSign))
      throw new KeyConfigError(
        `${ENV_VAR} has no usable signing key (every key is retired or lacks privateKey)`,
      );
    return createKeyring(keys);
  }
  if (!opts.dataDir) return createMemoryKeyring(now());
  const keys = await readKeyFiles(opts.dataDir);
  if (!keys.some(canSign)) {
    const fresh = generateSigningKey(now());
    await writeKeyFile(opts.dataDir, fresh);
    keys.push(fresh);
  }
  return createKeyring(keys);
}

const canSign = (k: StoredKey) => k.privateKey !== undefined && k.retiredAt === undefined;

/**
 * Rotation: writes a new key to `<dataDir>/keys/`; it signs from the next start on. Old keys stay and verify.
 * Returns the new public key.
 */
export async function rotateKey(dataDir: string, now: number = Date.now()): Promise<SigningKey> {
  const fresh = generateSigningKey(now);
  await writeKeyFile(dataDir, fresh);
  return { kid: fresh.kid, publicKey: fresh.publicKey, createdAt: fresh.createdAt };
}

/** Marks a key retired: it stops signing (from the next start on) and keeps verifying. */
export async function retireKey(dataDir: string, kid: string, now: number = Date.now()): Promise<SigningKey> {
  const key = (await readKeyFiles(dataDir)).find((k) => kidOf(k.publicKey) === kid);
  if (!key) throw new KeyConfigError(`no key ${kid} in ${keysDir(dataDir)}`);
  const retired = { ...key, kid, retiredAt: key.retiredAt ?? now };
  await writeKeyFile(dataDir, retired);
  const { privateKey: _private, ...pub } = retired;
  return pub;
}

/**
 * A keyring that only verifies, for `assenso verify`: the keys of a JSON file of public keys (the body of
 * GET /v1/keys, or an array) when one is given, else those of `ASSENSO_SIGNING_KEYS` and `<dataDir>/keys/*.json`.
 * Never creates a key. The file replaces the server's keys rather than adding to them: it is the auditor's own
 * copy, and a key someone put next to the database since (to sign a rewritten log) must not count with it.
 */
export async function loadVerificationKeyring(opts: {
  dataDir?: string;
  env?: Record<string, string | undefined>;
  keysFile?: string;
}): Promise<Keyring> {
  const keys: StoredKey[] = [];
  const fromEnv = opts.env?.[ENV_VAR];
  if (!opts.keysFile && fromEnv?.trim()) keys.push(...parseKeysEnv(fromEnv));
  if (!opts.keysFile && opts.dataDir) keys.push(...(await readKeyFiles(opts.dataDir)));
  if (opts.keysFile) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(opts.keysFile, 'utf8'));
    } catch (err) {
      throw new KeyConfigError(`${opts.keysFile}: ${(err as Error).message}`);
    }
    const list = Array.isArray(value) ? value : ((value as { keys?: unknown[] }).keys ?? [value]);
    keys.push(
      ...list.map((k, i) => {
        // GET /v1/keys adds `alg`; only Ed25519 exists.
        const { alg: _alg, ...key } = k as Record<string, unknown>;
        return parseStoredKey(key, `${opts.keysFile}[${i}]`);
      }),
    );
  }
  if (keys.length === 0)
    throw new KeyConfigError(
      opts.keysFile
        ? `${opts.keysFile}: no public keys in it`
        : 'no public keys to verify with (data directory, env or --keys)',
    );
  // The same key may come from several sources; keep the first.
  const byKid = new Map<string, StoredKey>();
  for (const k of keys) if (!byKid.has(k.kid)) byKid.set(k.kid, k);
  return createKeyring([...byKid.values()].map(({ privateKey: _p, ...pub }) => pub));
}
