/**
 * @module
 * Pairing codes: 8 characters of Crockford's base32 (no I, L, O, U), shown as `ABCD-EFGH`. 32^8 ≈ 1.1·10^12
 * codes; with a code living 5 minutes and claims rate-limited (service.ts), guessing one is hopeless.
 * Reading and showing them is shared with the widget (src/protocol/pairing-code.ts).
 */
import { randomBytes } from 'node:crypto';
import { PAIRING_ALPHABET, PAIRING_CODE_LENGTH } from '../../protocol/pairing-code.ts';

export { formatPairingCode, normalizePairingCode, PAIRING_CODE_LENGTH } from '../../protocol/pairing-code.ts';

/** A new random code, without the dash (32 symbols: one byte & 31 each, so no modulo bias). */
export function newPairingCode(random: (n: number) => Uint8Array = randomBytes): string {
  return Array.from(random(PAIRING_CODE_LENGTH), (b) => PAIRING_ALPHABET[b & 31]).join('');
}
