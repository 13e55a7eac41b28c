/**
 * @module
 * Named errors of the identity service; `routes/identity.ts` maps each to its problem+json answer.
 */
export { IdentityTokenError } from './token.ts';

/** A pairing code that is unknown, expired, already used, or the claimer's own. */
export class PairingCodeError extends Error {
  override name = 'PairingCodeError';
}

/** Too many attempts in the current window; retry after `retryAfterSeconds`. */
export class IdentityRateLimited extends Error {
  override name = 'IdentityRateLimited';
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limited, retry in ${retryAfterSeconds} s`);
  }
}

/** A device that is not one of the asking device's subject (or the asking device is not linked). */
export class DeviceNotFound extends Error {
  override name = 'DeviceNotFound';
}
