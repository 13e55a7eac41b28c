/**
 * Pairing codes as people type and read them, shared by the widget (which shows a code before claiming it) and
 * the server (which reads claims): 8 characters of Crockford's base32 (no I, L, O, U), shown as `ABCD-EFGH`.
 * Typing is forgiving: case, spaces and dashes are ignored, and O/I/L read as 0/1/1.
 */
export const PAIRING_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const PAIRING_CODE_LENGTH = 8;

/** The code as typed → canonical form, or undefined when it cannot be a code. */
export function normalizePairingCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  // (PAIRING_ALPHABET as a character class.)
  return /^[0-9A-HJKMNP-TV-Z]{8}$/.test(code) ? code : undefined;
}

/** `ABCD-EFGH`, as shown to people. */
export function formatPairingCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
