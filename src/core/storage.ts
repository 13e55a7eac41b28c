import { createStore, del, get, set, update } from 'idb-keyval';
import type { KeyValueStore } from './types.ts';

/** What the store may use; tests pass a partial one to simulate blocked storage. */
export interface StorageEnv {
  indexedDB?: unknown;
  localStorage?: Storage;
}

type Layer = () => KeyValueStore;

/**
 * How long an IndexedDB call may take before the layer counts as failed. An open can hang for good: queued
 * behind another tab's blocked version change, or in Safari's known bugs; a decision would then never apply.
 * A cold open on a slow phone takes a few hundred milliseconds.
 */
export const HANG_MS = 2000;

/**
 * A key–value store that degrades instead of throwing: IndexedDB (its own database, as idb-keyval allows
 * one object store per database) → localStorage (keys prefixed with the database name) → memory.
 * A layer that fails once (private mode, blocked storage, quota, an IndexedDB call hanging for `HANG_MS`) is
 * left for the next one for good.
 */
export function createKeyValueStore(name: string, env: StorageEnv = globalThis): KeyValueStore {
  const p = `${name}:`;
  const idb: Layer = () => {
    if (!env.indexedDB) throw 0;
    const s = createStore(name, 'kv');
    // What an earlier page kept in localStorage when this database failed it (a hang: see HANG_MS), taken back
    // before the first call: its decision, the receipts it queued. Lists are joined, other values replaced (they
    // are the newer). An error leaves them there for the next page; a hang is timed out as the call itself.
    // In a task of its own, while IndexedDB opens: a page's first use of localStorage waits for the browser to
    // load it (3 to 18 ms on the bench machine at 4x CPU), and the first call comes from start-up's task.
    let back: Promise<void> | undefined;
    const adopt = () =>
      (back ??= (async () => {
        await new Promise((r) => setTimeout(r));
        const ls = env.localStorage!;
        const mark = `${p}?`;
        const ours = () => Object.keys(ls).filter((key) => key.startsWith(p) && key !== mark);
        if (!ls.getItem(mark)) return;
        const json = (x: unknown) => JSON.stringify(x);
        for (const key of ours()) {
          const raw = ls.getItem(key)!;
          const v = JSON.parse(raw);
          await update(
            key.slice(p.length),
            (o) =>
              Array.isArray(o) && Array.isArray(v)
                ? [...o, ...v.filter((x) => !o.some((y) => json(y) === json(x)))]
                : v,
            s,
          );
          // (Unless this page wrote it meanwhile, in localStorage: its IndexedDB ended a hang too late.)
          if (ls.getItem(key) === raw) ls.removeItem(key);
        }
        if (!ours().length) ls.removeItem(mark);
      })().catch(() => {}));
    return {
      get: (k) => adopt().then(() => get(k, s)),
      set: (k, v) => adopt().then(() => set(k, v, s)),
      del: (k) => adopt().then(() => del(k, s)),
      update: (k, fn) => adopt().then(() => update(k, fn, s)),
    };
  };
  const local: Layer = () => {
    const ls = env.localStorage!;
    const read = (k: string) => {
      const raw = ls.getItem(p + k);
      try {
        return raw == null ? undefined : JSON.parse(raw);
      } catch {
        return undefined; // corrupt data reads as absent, it must not switch layers
      }
    };
    const write = (k: string, v: unknown) => ls.setItem(p + k, JSON.stringify(v));
    // Throws here when storage is blocked or full. Kept: it tells IndexedDB, once it works again, to take
    // back what this layer holds.
    ls.setItem(`${p}?`, '1');
    return {
      get: async (k) => read(k),
      set: async (k, v) => write(k, v),
      del: async (k) => ls.removeItem(p + k),
      update: async (k, fn) => write(k, fn(read(k))),
    };
  };
  const memory: Layer = () => {
    const m = new Map<string, unknown>();
    return {
      get: async (k) => structuredClone(m.get(k)) as never,
      set: async (k, v) => void m.set(k, structuredClone(v)),
      del: async (k) => void m.delete(k),
      update: async (k, fn) => void m.set(k, structuredClone(fn(m.get(k) as never))),
    };
  };
  const layers = [idb, local, memory];
  let cur: KeyValueStore | undefined;
  const run =
    <A extends unknown[], R>(op: (s: KeyValueStore, ...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      for (;;) {
        const layer = layers[0];
        try {
          cur ??= layer!();
          const s = cur;
          // Only IndexedDB can hang; its call, if it ends later, ends unobserved (receipts are deduplicated).
          return await new Promise<R>((ok, no) => {
            op(s, ...a).then(ok, no);
            if (layers[2]) setTimeout(no, HANG_MS);
          });
        } catch (e) {
          // memory never fails but a caller's updater may: rethrow that instead of looping
          if (layers.length === 1) throw e;
          // Left only once: calls that failed together on IndexedDB go on together in localStorage, not in memory.
          if (layers[0] === layer) {
            layers.shift();
            cur = undefined;
          }
        }
      }
    };
  return {
    get: run((s, k: string) => s.get(k)) as KeyValueStore['get'],
    set: run((s, k: string, v: unknown) => s.set(k, v)),
    del: run((s, k: string) => s.del(k)),
    update: run((s, k: string, fn: (o: unknown) => unknown) => s.update(k, fn)) as KeyValueStore['update'],
  };
}

/** The two stores of a site: decision state, and the receipt outbox. */
export function createStorage(siteId: string, env?: StorageEnv) {
  return {
    state: createKeyValueStore(`assenso-${siteId}`, env),
    outbox: createKeyValueStore(`assenso-${siteId}-outbox`, env),
  };
}
