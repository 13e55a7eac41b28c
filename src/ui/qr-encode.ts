/**
 * The QR encoder (the `uqr` package), in a chunk of its own: about 3.4 kB brotli that only a browser showing
 * a pairing code ever fetches (src/ui/qr.ts imports this module dynamically).
 */
import { encode } from 'uqr';

/** The modules of the QR code of `text` (true = dark), without a quiet zone; error correction level M. */
export function qrModules(text: string): boolean[][] {
  return encode(text, { ecc: 'M', border: 0 }).data;
}
