import { failed, report } from '../core/events.ts';
import type {
  Choices,
  ConsentController,
  Decision,
  EventMap,
  ReceiptLog,
  Unsubscribe,
} from '../core/types.ts';

/** What `window.assenso.get()` returns: the applied choices and the stored decision. */
export interface ConsentSnapshot {
  categories: Choices;
  services: Choices;
  /** The stored decision (null before the first one, or after reset()). */
  decision: Decision | null;
  /** Whether the visitor is being asked (first visit, changed revision, expiry). */
  pending: boolean;
}

/** A queued call made before the script loaded: `['on', 'change', fn]` or `(api) => …`. */
export type QueuedCall = [keyof AssensoApi, ...unknown[]] | ((api: AssensoApi) => void);

/** `window.assenso`. Nothing here throws into the page: failures become one console warning. */
export interface AssensoApi {
  get(): ConsentSnapshot;
  /** Whether a category or service id is granted now. */
  has(id: string): boolean;
  /** Opens the preference center. */
  open(): void;
  acceptAll(): Promise<Decision | null>;
  rejectAll(): Promise<Decision | null>;
  /** Sets categories and/or services; anything not named keeps its choice. Method `api` on the receipt. */
  set(choices: { categories?: Choices; services?: Choices }): Promise<Decision | null>;
  on<K extends keyof EventMap>(type: K, fn: (event: EventMap[K]) => void): Unsubscribe;
  /** Forgets the decision on this device; the banner shows again. */
  reset(): Promise<unknown>;
  /** The receipts kept on this device (signed ones, pending ones, refused ones). */
  receipts(): Promise<ReceiptLog | null>;
  /** Runs a queued-style call now (so `assenso.push(...)` keeps working after load). */
  push(...calls: QueuedCall[]): number;
}

/** Wraps a call so that a throw reaches no one but the console. */
function safe<A extends unknown[], R>(what: string, fn: (...a: A) => R, fallback: R) {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (e) {
      failed(what, e);
      return fallback;
    }
  };
}

/** Same for promises: a rejection resolves to null after one warning (no unhandled rejection in the page). */
function later<A extends unknown[], R>(what: string, fn: (...a: A) => Promise<R>) {
  return (...args: A): Promise<R | null> => {
    try {
      return fn(...args).catch((e) => {
        failed(what, e);
        return null;
      });
    } catch (e) {
      failed(what, e);
      return Promise.resolve(null);
    }
  };
}

/** Every event name (a key missing here is a compile error). */
const EVENTS: Record<keyof EventMap, 1> = {
  ready: 1,
  change: 1,
  revoke: 1,
  view: 1,
  queued: 1,
  acknowledged: 1,
  rejected: 1,
  error: 1,
};

/**
 * Builds `window.assenso` over a controller. `start`, when given, is called before the state is read
 * (`get()`, `has()`): the script-tag entry starts the controller in a task after its own, or then.
 */
export function createWindowApi(c: ConsentController, start?: () => void): AssensoApi {
  const api: AssensoApi = {
    get: safe(
      'get()',
      () => {
        start?.();
        const s = c.getState();
        // A copy: the state's own objects are what has() and the next decision read, so a page editing
        // the snapshot (merging its defaults in, say) would grant consent.
        return structuredClone({ ...s.granted, decision: s.decision, pending: s.prompt != null });
      },
      { categories: {}, services: {}, decision: null, pending: false },
    ),
    has: safe(
      'has()',
      (id: string) => {
        start?.();
        return c.has(id);
      },
      false,
    ),
    // Started first: opened before start-up, the stored decision applied afterwards would close it again.
    open: safe(
      'open()',
      () => {
        start?.();
        c.open('preferences');
      },
      undefined,
    ),
    // Recorded as the page's call (`api`), not as a click on the banner.
    acceptAll: later('acceptAll()', () => c.acceptAll(undefined, 'api')),
    rejectAll: later('rejectAll()', () => c.rejectAll(undefined, 'api')),
    set: later('set()', async (choices: { categories?: Choices; services?: Choices }) => {
      // Only true is consent, and only a configured id is a choice: decide() drops the rest; say so here.
      let named = false;
      const required = new Set(c.config.categories.filter((x) => x.required).map((x) => x.id));
      for (const k of ['categories', 'services'] as const) {
        const given = choices?.[k];
        if (given == null) continue;
        if (typeof given !== 'object' || Array.isArray(given)) {
          console.warn(`[assenso] set(): ${k} must be an object of id: true|false; ignored`);
          continue;
        }
        for (const [id, v] of Object.entries(given))
          if (!Object.hasOwn(c.getState().granted[k], id))
            console.warn(`[assenso] set(): ${k}.${id} is not a configured id; ignored`);
          else if (typeof v !== 'boolean')
            console.warn(`[assenso] set(): ${k}.${id} must be true or false; ignored`);
          else if (k === 'categories' && required.has(id))
            console.warn(`[assenso] set(): categories.${id} is required, always on; ignored`);
          else named = true;
      }
      // Nothing chosen, nothing decided: on a first visit a decision would deny every category unasked.
      if (!named) {
        console.warn('[assenso] set(): no valid choice; nothing changed');
        return null;
      }
      return c.save({ categories: choices.categories, services: choices.services, method: 'api' });
    }),
    on: safe(
      'on()',
      // Copies for the same reason as get() ("ready" and "change" carry the state's own objects); an error
      // as it is (it may not be cloneable).
      (type, fn) => {
        // Said once here, not as an error at every event.
        if (!Object.hasOwn(EVENTS, type))
          console.warn(`[assenso] on(): "${String(type)}" is not an event; ignored`);
        else if (typeof fn !== 'function')
          console.warn(`[assenso] on("${type}"): the listener must be a function; ignored`);
        else {
          let heard = false;
          const un = c.on(type, (e) => {
            heard = true;
            fn(type === 'error' ? e : structuredClone(e));
          });
          // `ready` is a state: a listener that comes after it (the page's queue snippet ran after an async
          // assenso.js) hears it at once, as one before it did.
          if (type === 'ready' && c.getState().started)
            queueMicrotask(() => {
              if (heard) return;
              heard = true;
              try {
                (fn as (s: unknown) => void)(structuredClone(c.getState()));
              } catch (e) {
                report('"ready" listener threw', e);
              }
            });
          return () => {
            heard = true;
            un();
          };
        }
        return () => {};
      },
      () => {},
    ) as AssensoApi['on'],
    reset: later('reset()', () => c.reset()),
    receipts: later('receipts()', () => c.receipts()),
    push(...calls) {
      for (const call of calls) runQueued(api, call);
      return 0;
    },
  };
  return api;
}

/** Replays one call queued before load. */
export function runQueued(api: AssensoApi, call: unknown): void {
  try {
    if (typeof call === 'function') call(api);
    else if (Array.isArray(call) && typeof api[call[0] as keyof AssensoApi] === 'function')
      (api[call[0] as keyof AssensoApi] as (...a: unknown[]) => unknown)(...call.slice(1));
    else failed('a queued call', new TypeError('expected [method, ...args] or a function'));
  } catch (e) {
    failed('a queued call', e);
  }
}
