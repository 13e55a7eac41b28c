/**
 * @module
 * Checkpoints: a log's signed head in the C2SP formats the transparency ecosystem shares
 * (c2sp.org/tlog-checkpoint inside a c2sp.org/signed-note), so that Go's `golang.org/x/mod/sumdb/note` and
 * other tools can read them:
 *
 *     <origin>\n<tree size>\n<base64 root>\ntimestamp <epoch ms>\n
 *     \n
 *     — <origin> base64(key id (4 bytes) || Ed25519 signature)\n
 *
 * The key name is the origin; the 4-byte key id is SHA-256(name || 0x0A || 0x01 || public key)[:4]. The one
 * extension line carries the server time, so that a checkpoint also proves when the log had that size.
 */
import { createHash } from 'node:crypto';
import { type Keyring, verifyWithPublicKey } from './keys.ts';
import type { Hash } from './merkle.ts';

export interface CheckpointBody {
  origin: string;
  treeSize: number;
  root: Hash;
  /** Epoch ms. */
  timestamp: number;
}

export interface SignedCheckpoint extends CheckpointBody {
  /** The note text (the signed bytes). */
  text: string;
  /** The full signed note. */
  note: string;
  kid: string;
  /** Base64url Ed25519 signature over `text`. */
  sig: string;
}

/** The checkpoint text or note is malformed. */
export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
}

const ORIGIN = /^[^\s+\u2014]+$/u;
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u;

/** The log origin (and note key name) of a site: `<host of publicUrl>/log/<site>`, or `assenso/log/<site>`. */
export function logOrigin(siteId: string, publicUrl?: string): string {
  const host = publicUrl ? new URL(publicUrl).host : 'assenso';
  return `${host}/log/${siteId}`;
}

/** The 4-byte signed-note key id of an Ed25519 key (raw public key as base64url) under a key name. */
export function noteKeyId(name: string, publicKey: string): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Uint8Array.of(0x01))
    .update(Buffer.from(publicKey, 'base64url'))
    .digest()
    .subarray(0, 4);
}

/** The verifier key string Go's `note.NewVerifier` takes: `<name>+<hex key id>+<base64(0x01 || public key)>`. */
export function noteVerifierKey(name: string, publicKey: string): string {
  const key = Buffer.concat([Uint8Array.of(0x01), Buffer.from(publicKey, 'base64url')]).toString('base64');
  return `${name}+${noteKeyId(name, publicKey).toString('hex')}+${key}`;
}

/** The note text of a checkpoint. */
export function checkpointText(body: CheckpointBody): string {
  if (!ORIGIN.test(body.origin))
    throw new CheckpointFormatError(`origin "${body.origin}" is not a valid key name`);
  if (!Number.isSafeInteger(body.treeSize) || body.treeSize < 0)
    throw new CheckpointFormatError('bad tree size');
  if (body.root.length !== 32) throw new CheckpointFormatError('root must be 32 bytes');
  const root = Buffer.from(body.root).toString('base64');
  return `${body.origin}\n${body.treeSize}\n${root}\ntimestamp ${body.timestamp}\n`;
}

/** Signs a checkpoint with the keyring's current key. */
export function signCheckpoint(body: CheckpointBody, keyring: Keyring): SignedCheckpoint {
  const text = checkpointText(body);
  const { kid, sig } = keyring.sign(Buffer.from(text, 'utf8'));
  const key = keyring.publicKeys().find((k) => k.kid === kid);
  if (!key) throw new Error(`signing key ${kid} is not in the keyring`);
  const line = Buffer.concat([noteKeyId(body.origin, key.publicKey), Buffer.from(sig, 'base64url')]);
  const note = `${text}\n\u2014 ${body.origin} ${line.toString('base64')}\n`;
  return { ...body, text, note, kid, sig };
}

export interface ParsedNote extends CheckpointBody {
  text: string;
  signatures: { name: string; keyId: Buffer; sig: Buffer }[];
}

/** Parses a signed checkpoint note (without checking signatures). Throws `CheckpointFormatError`. */
export function parseCheckpointNote(note: string): ParsedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CheckpointFormatError('not a signed note');
  const text = note.slice(0, split + 1);
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (!origin || !ORIGIN.test(origin)) throw new CheckpointFormatError('bad origin line');
  if (!size || !/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size)))
    throw new CheckpointFormatError('bad tree size line');
  const rootBytes = Buffer.from(root ?? '', 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root)
    throw new CheckpointFormatError('bad root hash line');
  const stamp = extensions.map((l) => /^timestamp (0|[1-9][0-9]*)$/.exec(l)).find(Boolean);
  if (!stamp) throw new CheckpointFormatError('missing timestamp line');
  const signatures = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const m = SIGNATURE_LINE.exec(line);
      const bytes = m ? Buffer.from(m[2]!, 'base64') : undefined;
      if (!m || !bytes || bytes.length < 5) throw new CheckpointFormatError('bad signature line');
      return { name: m[1]!, keyId: bytes.subarray(0, 4), sig: bytes.subarray(4) };
    });
  return { origin, treeSize: Number(size), root: rootBytes, timestamp: Number(stamp[1]), text, signatures };
}

/**
 * Whether the note carries a valid signature by `publicKey` (raw, base64url) under its origin as key name.
 * This is what an auditor runs with a key from GET /v1/keys.
 */
export function verifyCheckpointNote(note: string, publicKey: string): ParsedNote | undefined {
  let parsed: ParsedNote;
  try {
    parsed = parseCheckpointNote(note);
  } catch {
    return undefined;
  }
  const keyId = noteKeyId(parsed.origin, publicKey);
  const text = Buffer.from(parsed.text, 'utf8');
  const ok = parsed.signatures.some(
    (s) =>
      s.name === parsed.origin &&
      s.keyId.equals(keyId) &&
      verifyWithPublicKey(publicKey, text, s.sig.toString('base64url')),
  );
  return ok ? parsed : undefined;
}
