/**
 * @module
 * Who a decision made outside a browser (email link, API) is for, as part of what the server signs: the receipt's
 * `subjectCommitment` is SHA-256 of `<salt>:<subjectId>` (docs/protocol.md). The salt, random per receipt, is kept
 * beside the receipt (`receipts.subject_salt`) while the receipt is the person's; `verify` recomputes the
 * commitment from it and `subject_id`, so an edited subject is caught. Retention detaches a receipt from its
 * person by clearing both: the commitment then names nobody anyone can find, and the proof of the log still holds.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A fresh salt: 32 random bytes, hex. */
export const newSubjectSalt = (): string => randomBytes(32).toString('hex');

/** `sha256:<hex>` of `<salt>:<subjectId>`. */
export const subjectCommitment = (salt: string, subjectId: string): string =>
  `sha256:${createHash('sha256').update(`${salt}:${subjectId}`).digest('hex')}`;
