import { toHex } from '../protocol/canonical.ts';
import type { Clock } from './types.ts';

/** The real clock. Tests inject their own (see ConsentDeps.clock). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as number),
};

/** Resolves in a task of its own once the browser is idle (at the latest `ms` later). */
export const idle = (ms = 1000): Promise<void> =>
  new Promise((r) =>
    'requestIdleCallback' in globalThis ? requestIdleCallback(() => r(), { timeout: ms }) : setTimeout(r, 1),
  );

/**
 * Runs `fn` in a task of its own, ahead of the page's other tasks where the browser lets us choose: Chromium and
 * Firefox run a user-blocking `scheduler.postTask` before parsing, timers and, when it is already queued, the
 * next rendering; elsewhere a timer.
 */
export const soon = (fn: () => void): void => {
  const s = (globalThis as { scheduler?: { postTask?(f: () => void, o: object): unknown } }).scheduler;
  if (s?.postTask) s.postTask(fn, { priority: 'user-blocking' });
  else setTimeout(fn);
};

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** A UUID v4. `crypto.randomUUID` exists only in secure contexts; getRandomValues everywhere. */
export const newReceiptId = (): string => {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = random(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return toHex(b).replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
};

/** A device id: 128 random bits as 32 hex digits, never derived from the browser's traits. */
export const newDeviceId = (): string => toHex(random(16));
