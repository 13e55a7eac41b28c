/**
 * @module
 * How far the server believes a device's clock (docs/protocol.md, "Order and clocks"). A receipt is stored as
 * the device made it (it is evidence), but its `collectedAt` counts for ordering only up to the server's
 * `receivedAt` plus a tolerance, and a clock ahead by more than that shortens the consent by as much: a
 * device's lifetime is measured from when the server got the decision, never from a date in the future.
 *
 * @example
 * boundedAt(receivedAt + 400 * DAY, receivedAt); // receivedAt + CLOCK_TOLERANCE_MS
 * boundedExpiry(receivedAt + 795 * DAY, receivedAt + 400 * DAY, receivedAt); // receivedAt + 395 days + 60 s
 */

/**
 * How far ahead of the server a device clock may be and still be believed: 60 s, the skew identity tokens
 * are allowed (docs/identity.md). Clocks synchronised by NTP are within a second; a bigger lead is a wrong
 * clock, whose receipts would otherwise outrank every later decision until the real time catches up.
 */
export const CLOCK_TOLERANCE_MS = 60_000;

/** `collectedAt` as far as the server believes it: never later than `receivedAt` + the tolerance. */
export const boundedAt = (collectedAt: number, receivedAt: number): number =>
  Math.min(collectedAt, receivedAt + CLOCK_TOLERANCE_MS);

/**
 * An expiry the device computed from its `collectedAt`, moved back by as much as that clock was ahead beyond
 * the tolerance: the same lifetime, counted from the bounded time.
 */
export const boundedExpiry = (expiry: number, collectedAt: number, receivedAt: number): number =>
  expiry - (collectedAt - boundedAt(collectedAt, receivedAt));
