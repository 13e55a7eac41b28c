/**
 * @module
 * The per-site identity settings, spread into the site schema of `config.ts`:
 * `identity: { secrets: { "<kid>": "<secret of at least 32 bytes>" } }`. Several kids at once let a site
 * rotate its secret: sign with the new kid, keep the old one until its last token has expired (10 minutes).
 */
import * as v from 'valibot';
import { MIN_IDENTITY_SECRET_BYTES } from '../identity-token.ts';

const KidSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'a kid is 1-64 of A-Z a-z 0-9 . _ -'));
const SecretSchema = v.pipe(
  v.string(),
  v.check(
    (s) => new TextEncoder().encode(s).length >= MIN_IDENTITY_SECRET_BYTES,
    `an identity secret must be at least ${MIN_IDENTITY_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
  ),
);

export const IDENTITY_SITE_ENTRIES = {
  /** Identity linking (docs/identity.md): the secrets the site's backend signs identity tokens with, by kid. */
  identity: v.optional(
    v.strictObject({
      secrets: v.pipe(
        v.record(KidSchema, SecretSchema),
        v.check((r) => Object.keys(r).length >= 1, 'give at least one secret'),
      ),
    }),
  ),
};
