/**
 * Canonical JSON (RFC 8785, JCS) and SHA-256, with the Web Crypto API that both browsers and Node 20 have.
 * The notice hash and the Merkle leaves are computed over this form, so that the widget, the server and an
 * auditor's own script agree byte for byte.
 */

/** What JSON.stringify escapes in a string: quote, backslash, control characters, surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the ones JSON escapes.
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Serialises a JSON value with object keys sorted by UTF-16 code units and no insignificant white space.
 * The server runs it on every receipt it takes in: plain strings, numbers and booleans are written here rather
 * than by a JSON.stringify call each (2x faster), with JSON.stringify's output, which JCS prescribes.
 */
export function canonicalJson(value: unknown): string {
  const type = typeof value;
  if (type === 'string') return ESCAPED.test(value as string) ? JSON.stringify(value) : `"${value}"`;
  if (type === 'number' && !Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
  if (type === 'number' || type === 'boolean') return `${value}`;
  if (value == null) return 'null';
  if (type !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  let out = '';
  for (const k of Object.keys(obj).sort())
    if (obj[k] !== undefined) out += `,${canonicalJson(k)}:${canonicalJson(obj[k])}`;
  return `{${out.slice(1)}}`;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of a byte array. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b];
  return out;
}

/** SHA-256 of a UTF-8 string, as lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}
