// Start-up, once: a listener that calls the API while it runs, a controller destroyed before it ends (React
// StrictMode), and the GPC withdrawal it records. Each case failed before its fix (a review in Chromium).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { createStorage } from '../../src/core/storage.ts';
import type { ChangeEvent, Decision, KeyValueStore, ReceiptLog } from '../../src/core/types.ts';
import { destroyAll, siteConfig, track } from './helpers.ts';

type W = { dataLayer?: unknown[] };
const w = window as unknown as W;
afterEach(() => {
  destroyAll();
  delete w.dataLayer;
});

/** The Consent Mode updates pushed so far. */
const updates = () =>
  (w.dataLayer ?? []).filter(
    (e) => Object.prototype.toString.call(e) === '[object Arguments]' && (e as IArguments)[1] === 'update',
  );
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A returning visitor: analytics on, its service `ga` off; marketing off. */
async function returning() {
  const cfg = siteConfig({ consentMode: true });
  await track(createConsent(cfg, { gpc: false })).save({
    categories: { analytics: true, marketing: false },
    services: { ga: false },
  });
  destroyAll();
  delete w.dataLayer;
  return cfg;
}

describe('a listener that calls the API during start-up', () => {
  for (const visit of ['first', 'returning'])
    it(`on ready, receipts() and flush() wait for start-up; it runs once (${visit} visit)`, async () => {
      const cfg = visit === 'first' ? siteConfig({ consentMode: true }) : await returning();
      const c = track(createConsent(cfg, { gpc: false }));
      const heard = { ready: 0, change: 0 };
      let log: Promise<ReceiptLog> | undefined;
      let flushed: Promise<void> | undefined;
      c.on('ready', () => {
        // (Only a few times: each call started start-up again, until the stack overflowed and took the page.)
        if (heard.ready++ > 3) return;
        log = c.receipts();
        flushed = c.flush();
      });
      c.on('change', () => heard.change++);
      await c.start();
      await flushed;
      expect((await log!).pending).toHaveLength(visit === 'first' ? 0 : 1);
      expect(heard).toEqual({ ready: 1, change: visit === 'first' ? 0 : 1 });
      expect(updates()).toHaveLength(visit === 'first' ? 0 : 1);
    });

  it("on change, a decision applies once, after start-up's own (the stored one)", async () => {
    const cfg = await returning();
    const c = track(createConsent(cfg, { gpc: false }));
    const heard: string[] = [];
    let set: Promise<unknown> | undefined;
    c.on('change', (e: ChangeEvent) => {
      heard.push(`${e.source}:${e.decision?.method}`);
      // The page's `assenso.set()`: analytics without its service `ga` is not what it wants.
      if (!e.granted.services.ga && heard.length < 5) set = c.save({ services: { ga: true }, method: 'api' });
    });
    await c.start();
    await set;
    expect(heard).toEqual(['storage:preferences', 'local:api']);
    expect(c.has('ga')).toBe(true);
    expect(updates()).toHaveLength(2);
    expect((await c.receipts()).pending.map((r) => r.method)).toEqual(['preferences', 'api']);
  });
});

describe('a destroyed controller', () => {
  it('records nothing and hears no tab when destroyed during start-up (React StrictMode mounts twice)', async () => {
    // Marketing granted without GPC; the browser sends GPC now: start-up records the withdrawal, once.
    const cfg = siteConfig();
    await track(createConsent(cfg, { gpc: false })).acceptAll();
    destroyAll();
    const first = track(createConsent(cfg, { gpc: true }));
    const late = vi.fn();
    void first.start();
    first.destroy();
    first.on('change', late);
    first.on('queued', late);
    const second = track(createConsent(cfg, { gpc: true }));
    await Promise.all([first.start(), second.start()]);
    await vi.waitFor(async () => expect((await second.receipts()).pending).toHaveLength(2));
    // The other tabs' decisions reach the live controller only.
    await second.rejectAll();
    await pause(300);
    expect((await second.receipts()).pending.map((r) => r.method)).toEqual([
      'accept-all',
      'gpc',
      'reject-all',
    ]);
    expect(late).not.toHaveBeenCalled();
    expect(first.getState().decision?.method).toBe('accept-all');
  });

  it('does nothing when called: decisions, reset() and flush() resolve without effect', async () => {
    const cfg = await returning();
    const c = track(createConsent(cfg, { gpc: false }));
    await c.start();
    const heard = vi.fn();
    c.on('change', heard);
    c.on('view', heard);
    c.destroy();
    // Nor does its UI open: a second mount (StrictMode) shows the live controller's.
    c.open();
    c.open('banner');
    expect(c.getState().view).toBe('none');
    c.hide();
    expect(await c.acceptAll()).toBeUndefined();
    await c.allowService('ga');
    await c.reset();
    await c.flush();
    expect(heard).not.toHaveBeenCalled();
    expect(c.has('marketing')).toBe(false);
    expect((await c.receipts()).pending).toHaveLength(1);
    // The next page still reads the visitor's own decision.
    const next = track(createConsent(cfg, { gpc: false }));
    await next.start();
    expect(next.getState().decision?.method).toBe('preferences');

    // Destroyed before it started: a call starts nothing (no observer, no Consent Mode, no decision).
    const pushed = updates().length;
    const never = track(createConsent(cfg, { gpc: false }));
    never.destroy();
    expect(await never.rejectAll()).toBeUndefined();
    expect(never.getState().started).toBe(false);
    expect(updates()).toHaveLength(pushed);
    const again = track(createConsent(cfg, { gpc: false }));
    void again.start();
    expect(again.getState().decision?.method).toBe('preferences');
  });

  it('still answers what the device keeps: receipts(), deviceId(), notice(); adopt() applies nothing (false)', async () => {
    const cfg = await returning();
    const decision = await createStorage(cfg.siteId).state.get<Decision>('decision');
    const kept = await createStorage(cfg.siteId).state.get('device');
    const empty = siteConfig();
    const someone = { ...decision!, receiptId: crypto.randomUUID(), method: 'sync' as const };
    // Destroyed before it started (StrictMode's first mount, unmounted at once), and after it started.
    for (const started of [false, true])
      for (const c of [cfg, empty].map((x) => track(createConsent(x, { gpc: false })))) {
        if (started) await c.start();
        c.destroy();
        const log: ReceiptLog = await c.receipts();
        const id = await c.deviceId();
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(await c.adopt(someone)).toBe(false);
        await c.flush();
        expect((await c.notice()).revision).toBe('1');
        if (c.config.siteId === cfg.siteId) {
          expect(log.pending.map((r) => r.receiptId)).toEqual([decision!.receiptId]);
          expect(id).toBe(decision!.deviceId);
        } else {
          expect(log).toEqual({ acknowledged: [], pending: [], rejected: [] });
          // (Live, it would have adopted it: nothing of its own is newer.)
          expect(await createStorage(empty.siteId).state.get('decision')).toBeUndefined();
          // Kept: the next controller has the same one.
          const next = track(createConsent(empty, { gpc: false }));
          expect(await next.deviceId()).toBe(id);
          next.destroy();
        }
        expect(c.getState().started).toBe(started);
      }
    expect(await createStorage(cfg.siteId).state.get('device')).toEqual(kept);
    expect((await createStorage(cfg.siteId).state.get<Decision>('decision'))?.receiptId).toBe(
      decision!.receiptId,
    );
    expect(updates()).toHaveLength(1); // the started one's
  });

  it('keeps a decision on its way, and tells nobody: the next page makes its receipt', async () => {
    const cfg = siteConfig();
    const storage = createStorage(cfg.siteId);
    // The decision's receipt job waits to be written until the controller is destroyed.
    let armed = false;
    let held = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const state: KeyValueStore = {
      ...storage.state,
      async update(k, fn) {
        if (armed && k === 'later') {
          held = true;
          await gate;
        }
        return storage.state.update(k, fn);
      },
    };
    const c = track(createConsent(cfg, { gpc: false, storage: { ...storage, state } }));
    await c.start();
    const heard = vi.fn();
    for (const t of ['change', 'revoke', 'queued', 'error'] as const) c.on(t, heard);
    armed = true;
    const decided = c.acceptAll();
    await vi.waitFor(() => expect(held).toBe(true));
    c.destroy();
    release();
    expect(await decided).toMatchObject({ method: 'accept-all' });
    expect(heard).not.toHaveBeenCalled();
    expect(c.getState().decision).toBeNull();
    expect((await c.receipts()).pending).toHaveLength(0);
    const next = track(createConsent(cfg, { gpc: false }));
    await next.start();
    expect(next.has('marketing')).toBe(true);
    await vi.waitFor(async () => expect((await next.receipts()).pending).toHaveLength(1));
  });
});

describe('GPC at start-up', () => {
  for (const first of [false, true])
    it(`records the withdrawal of a service allowed on its own (${first ? 'nothing else answered' : 'after Reject all'})`, async () => {
      const cfg = siteConfig();
      const before = track(createConsent(cfg, { gpc: false }));
      if (!first) await before.rejectAll();
      // A placeholder's "Allow" for YouTube, of the marketing category, which honours GPC.
      await before.allowService('yt');
      destroyAll();
      const c = track(createConsent(cfg, { gpc: true }));
      await c.start();
      expect(c.has('yt')).toBe(false);
      const methods = first ? ['service', 'gpc'] : ['reject-all', 'service', 'gpc'];
      await vi.waitFor(async () => expect((await c.receipts()).pending).toHaveLength(methods.length));
      const log = (await c.receipts()).pending;
      expect(log.map((r) => r.method)).toEqual(methods);
      expect(log.at(-1)).toMatchObject({ gpc: true, services: { yt: false } });
      // The cookie says so too: read without GPC (a backend, a page that does not send it), yt is off.
      const next = track(createConsent(cfg, { gpc: false }));
      void next.start();
      expect(next.getState().decision).toMatchObject({ method: 'gpc', services: { yt: false } });
      expect(next.has('yt')).toBe(false);
    });
});
