import type { ChangeEvent, Unsubscribe } from './types.ts';

export interface Emitter<E> {
  on<K extends keyof E>(type: K, fn: (event: E[K]) => void): Unsubscribe;
  emit<K extends keyof E>(type: K, event: E[K]): void;
}

/** Reports a failure of host code (a listener) without letting it reach our caller or the next listener. */
export const report = (what: string, e: unknown) => console.error(`[assenso] ${what}:`, e);

/** One console warning for a call of the page's that failed (it gets a safe answer instead). */
export const failed = (what: string, e: unknown) => console.warn(`[assenso] ${what} failed:`, e);

/** A typed emitter (mitt's shape). One throwing listener never stops the others nor reaches the emitter. */
export function createEmitter<E>(): Emitter<E> {
  const all = new Map<keyof E, Set<(e: never) => void>>();
  return {
    on(type, fn) {
      const set = all.get(type) ?? new Set();
      all.set(type, set.add(fn));
      return () => void set.delete(fn);
    },
    emit(type, event) {
      for (const fn of [...(all.get(type) ?? [])]) {
        try {
          (fn as (e: unknown) => void)(event);
        } catch (e) {
          report(`"${String(type)}" listener threw`, e);
        }
      }
    },
  };
}

/** Tells the page: the `assenso:change` CustomEvent on window, and a dataLayer event when one exists. */
export function announce(win: Window, source: ChangeEvent) {
  // A copy: the state's own objects are what has() and the next decision read; a page editing what it was
  // handed (merging its defaults in, say) must not grant consent.
  // One for the event, one for the dataLayer: a listener editing its event must not change what tags read.
  const change = structuredClone(source);
  try {
    win.dispatchEvent(new CustomEvent('assenso:change', { detail: structuredClone(source) }));
  } catch (e) {
    report('"assenso:change" listener threw', e);
  }
  const dl = (win as { dataLayer?: unknown[] }).dataLayer;
  const d = change.decision;
  if (Array.isArray(dl))
    try {
      dl.push({
        event: 'assenso_consent',
        assenso: {
          categories: change.granted.categories,
          services: change.granted.services,
          method: d?.method ?? null,
          revision: d?.revision ?? null,
          source: change.source,
        },
      });
    } catch (e) {
      report("the page's dataLayer threw", e);
    }
}
