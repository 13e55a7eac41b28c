/**
 * @module
 * Pairing codes: 8 characters of Crockford's base32 (no I, L, O, U), shown as `ABCD-EFGH`. 32^8 ≈ 1.1·10^12
 * codes; with a code living 5 minutes and claims rate-limited (service.ts), guessing one is hopeless.
 * Typing is forgiving: case, spaces and dashes are ignored, and O/I/L read as 0/1/1.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const PAIRING_CODE_LENGTH = 8;

/** A new random code, without the dash (32 symbols: one byte & 31 each, so no modulo bias). */
export function newPairingCode(random: (n: number) => Uint8Array = randomBytes): string {
  return Array.from(random(PAIRING_CODE_LENGTH), (b) => ALPHABET[b & 31]).join('');
}

/** The code as typed → canonical form, or undefined when it cannot be a code. */
export function normalizePairingCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (code.length !== PAIRING_CODE_LENGTH) return undefined;
  for (const ch of code) if (!ALPHABET.includes(ch)) return undefined;
  return code;
}

/** `ABCD-EFGH`, as shown to people. */
export function formatPairingCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
