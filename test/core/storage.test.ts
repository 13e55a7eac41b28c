import { describe, expect, it } from 'vitest';
import { createKeyValueStore, HANG_MS } from '../../src/core/storage.ts';
import { uid } from './helpers.ts';

/** A localStorage that refuses every write, as in some private modes and with storage blocked. */
const blocked = {
  getItem: () => null,
  setItem: () => {
    throw new DOMException('blocked', 'SecurityError');
  },
  removeItem: () => {},
} as unknown as Storage;

describe('storage fallbacks', () => {
  it('uses IndexedDB (its own database) and persists across instances', async () => {
    const name = `kv${uid()}`;
    await createKeyValueStore(name).set('k', { a: 1 });
    expect(await createKeyValueStore(name).get('k')).toEqual({ a: 1 });
    expect((await indexedDB.databases()).map((d) => d.name)).toContain(name);
    expect(localStorage.getItem(`${name}:k`)).toBeNull();
  });

  it('falls back to localStorage without IndexedDB', async () => {
    const name = `kv${uid()}`;
    const s = createKeyValueStore(name, { indexedDB: undefined, localStorage });
    await s.set('k', [1]);
    await s.update<number[]>('k', (o) => [...(o ?? []), 2]);
    expect(JSON.parse(localStorage.getItem(`${name}:k`)!)).toEqual([1, 2]);
    expect(await createKeyValueStore(name, { localStorage }).get('k')).toEqual([1, 2]);
    await s.del('k');
    expect(localStorage.getItem(`${name}:k`)).toBeNull();
  });

  it('falls back to memory when localStorage is blocked too, and never throws', async () => {
    const s = createKeyValueStore(`kv${uid()}`, { indexedDB: undefined, localStorage: blocked });
    await s.set('k', { v: 1 });
    expect(await s.get('k')).toEqual({ v: 1 });
    await s.update<{ v: number }>('k', (o) => ({ v: o!.v + 1 }));
    expect(await s.get('k')).toEqual({ v: 2 });
  });

  it('leaves an IndexedDB that hangs for localStorage, and the data is there', async () => {
    // A real hang: another connection holds the database and ignores a version change queued behind it, so
    // every later open of that database waits for good (as behind an old tab that never closes).
    const name = `kv${uid()}`;
    const held = await new Promise<IDBDatabase>((ok) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => ok(r.result);
    });
    const blocked = new Promise((ok) => {
      indexedDB.open(name, held.version + 1).onblocked = ok;
    });
    await blocked;
    const s = createKeyValueStore(name);
    const t0 = performance.now();
    await s.set('k', { a: 1 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(HANG_MS - 50);
    expect(JSON.parse(localStorage.getItem(`${name}:k`)!)).toEqual({ a: 1 });
    expect(await s.get('k')).toEqual({ a: 1 });
    held.close();
    localStorage.removeItem(`${name}:k`);
  });

  it('calls that time out together on a hanging IndexedDB all go on in localStorage, not in memory', async () => {
    const name = `kv${uid()}`;
    const held = await new Promise<IDBDatabase>((ok) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => ok(r.result);
    });
    await new Promise((ok) => {
      indexedDB.open(name, held.version + 1).onblocked = ok;
    });
    const s = createKeyValueStore(name);
    await Promise.all([s.set('a', 1), s.set('b', 2), s.set('c', 3)]);
    for (const k of ['a', 'b', 'c']) expect(localStorage.getItem(`${name}:${k}`)).not.toBeNull();
    expect(await s.get('b')).toBe(2);
    held.close();
    for (const k of ['a', 'b', 'c', '?']) localStorage.removeItem(`${name}:${k}`);
  });

  it('takes back, once IndexedDB works again, what a page kept in localStorage during a hang', async () => {
    const name = `kv${uid()}`;
    // What earlier pages stored (idb-keyval's layout), on a connection an old tab keeps open.
    const held = await new Promise<IDBDatabase>((ok) => {
      const r = indexedDB.open(name);
      r.onupgradeneeded = () => r.result.createObjectStore('kv');
      r.onsuccess = () => ok(r.result);
    });
    await new Promise((ok) => {
      const tx = held.transaction('kv', 'readwrite');
      tx.objectStore('kv').put([{ id: 'a' }], 'queue');
      tx.objectStore('kv').put({ at: 1 }, 'decision');
      tx.oncomplete = ok;
    });
    // A page whose IndexedDB hung (see above) queued a receipt and decided, in localStorage.
    await new Promise((ok) => {
      indexedDB.open(name, held.version + 1).onblocked = ok;
    });
    const hung = createKeyValueStore(name);
    expect(await hung.get('decision')).toBeUndefined(); // 2 s, then localStorage
    await hung.update<{ id: string }[]>('queue', (q) => [...(q ?? []), { id: 'b' }]);
    await hung.set('decision', { at: 2 });
    await hung.set('device', { id: 'd' });
    held.close(); // the old tab goes; the version change goes through
    // The next page: IndexedDB again, with both pages' receipts and the newer decision; localStorage emptied.
    const next = createKeyValueStore(name);
    expect(await next.get('queue')).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(await next.get('decision')).toEqual({ at: 2 });
    expect(await next.get('device')).toEqual({ id: 'd' });
    expect(Object.keys(localStorage).filter((k) => k.startsWith(name))).toEqual([]);
    expect((await indexedDB.databases()).map((d) => d.name)).toContain(name);
  });

  it("leaves localStorage alone in the caller's task: its first use blocks the page while the browser loads it", async () => {
    const name = `kv${uid()}`;
    let touched = 0;
    const ls = new Proxy(localStorage, {
      get: (t, k) => {
        touched++;
        const v = Reflect.get(t, k, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
      ownKeys: (t) => {
        touched++;
        return Reflect.ownKeys(t);
      },
    });
    const s = createKeyValueStore(name, { indexedDB, localStorage: ls });
    const done = s.set('k', 1);
    expect(touched).toBe(0);
    await done;
    expect(touched).toBeGreaterThan(0); // the take-back still looked, later
    expect(await s.get('k')).toBe(1);
  });

  it('reads corrupt localStorage data as absent', async () => {
    const name = `kv${uid()}`;
    localStorage.setItem(`${name}:k`, '{not json');
    expect(await createKeyValueStore(name, { localStorage }).get('k')).toBeUndefined();
    localStorage.removeItem(`${name}:k`);
  });

  it('returns copies from memory, not live references', async () => {
    const s = createKeyValueStore(`kv${uid()}`, {});
    const v = { a: 1 };
    await s.set('k', v);
    v.a = 2;
    expect(await s.get('k')).toEqual({ a: 1 });
  });
});
