import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReceiptResult } from '../../src/protocol/api.ts';
import type { ConsentController } from '../../src/core/types.ts';
import { DEVICE_ID_PATTERN, NOTICE_HASH_PATTERN, RECEIPT_ID_PATTERN } from '../../src/protocol/ids.ts';
import { parseReceipt } from '../../src/protocol/receipt.ts';
import { type ConsentDeps, createConsent, type Receipt, resolveConfig } from '../../src/core/index.ts';
import { noticeOf } from '../../src/core/notice.ts';
import { noticeHash } from '../../src/protocol/notice.ts';
import { createConsentWith } from '../../src/core/consent.ts';
import { createOutbox } from '../../src/core/outbox.ts';
import { createKeyValueStore, createStorage } from '../../src/core/storage.ts';
import { createTransport, retryAfterMs } from '../../src/core/transport.ts';
import { DAY, destroyAll, manualClock, siteConfig, T0, track, uid } from './helpers.ts';

/** The outbox's retry timers pending (the decision's expiry timer, months away, aside). */
const retries = (clock: ReturnType<typeof manualClock>) => clock.pending().filter((ms) => ms < DAY);

afterEach(destroyAll);

type Call = { url: string; init: RequestInit; receipts: Receipt[] };
/**
 * A receipt server the test drives: each request waits for the test's answer (`reply`), so the order of
 * events is deterministic. Requests are recorded with their parsed bodies.
 */
function server() {
  const calls: Call[] = [];
  const waiting: ((r: Response | Error) => void)[] = [];
  const f = ((url: string, init: RequestInit) => {
    calls.push({ url, init, receipts: JSON.parse(init.body as string).receipts });
    return new Promise<Response>((res, rej) => waiting.push((r) => (r instanceof Error ? rej(r) : res(r))));
  }) as unknown as typeof fetch;
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const signed = (r: Receipt) => ({
    receipt: r,
    receivedAt: T0 + 1,
    leafHash: 'ab',
    signature: { alg: 'Ed25519', kid: 'k', sig: 's' },
  });
  return {
    fetch: f,
    calls,
    /** Answers the oldest open request. */
    async reply(r: Response | Error) {
      await vi.waitFor(() => expect(waiting.length).toBeGreaterThan(0));
      waiting.shift()!(r);
      await new Promise((r) => setTimeout(r, 10)); // let the outbox settle in IndexedDB
    },
    /**
     * Waits until `c`'s outbox holds nothing pending: an answer is stored some time after its reply, more than
     * `reply`'s pause on a loaded machine.
     */
    drained: (c: ConsentController) =>
      vi.waitFor(async () => expect((await c.receipts()).pending).toEqual([])),
    ok: (rs: Receipt[], outcome: (i: number) => ReceiptResult['outcome'] = () => 'stored') =>
      json(200, {
        results: rs.map((r, index) =>
          outcome(index) === 'rejected'
            ? {
                index,
                receiptId: r.receiptId,
                status: 422,
                outcome: 'rejected',
                problem: { type: 'x', title: 'Invalid receipt', status: 422 },
              }
            : { index, receiptId: r.receiptId, status: 201, outcome: outcome(index), signed: signed(r) },
        ),
      }),
    json,
    open: () => waiting.length,
  };
}

const endpoint = 'https://consent.test';

describe('receipts', () => {
  it('builds a valid protocol receipt per decision, chained to the previous one; no endpoint keeps them local', async () => {
    const cfg = siteConfig();
    cfg.categories[1]!.lifetimeDays = 365;
    cfg.categories[2]!.lifetimeDays = 30;
    const a = track(createConsent(cfg, { gpc: false }));
    const d1 = await a.acceptAll();
    const d2 = await a.save({ categories: { marketing: false } });
    const { pending, acknowledged } = await a.receipts();
    expect(acknowledged).toEqual([]);
    expect(pending.map((r) => r.receiptId)).toEqual([d1.receiptId, d2.receiptId]);
    const [r1, r2] = pending as [Receipt, Receipt];
    expect(parseReceipt(r1)).toMatchObject({ ok: true });
    expect(parseReceipt(r2)).toMatchObject({ ok: true });
    expect(r1.receiptId).toMatch(RECEIPT_ID_PATTERN);
    expect(r1.deviceId).toMatch(DEVICE_ID_PATTERN);
    expect(r2.deviceId).toBe(r1.deviceId);
    expect(r1.noticeHash).toMatch(NOTICE_HASH_PATTERN);
    expect(r1.previousReceiptId).toBeNull();
    expect(r2.previousReceiptId).toBe(r1.receiptId);
    expect(r2).toMatchObject({
      method: 'preferences',
      categories: { marketing: false, analytics: true },
      gpc: false,
    });
    // Every choice's expiry: a service its category's, the required category the latest (a server applies
    // the widget's rule from them).
    expect(r2.expiries).toEqual({
      ...d2.expiries,
      necessary: d2.expiries.analytics,
      ga: d2.expiries.analytics,
      yt: d2.expiries.marketing,
    });
    expect(d2.expiries.analytics! - d2.expiries.marketing!).toBeGreaterThan(334 * DAY);
    expect(r2.expiresAt).toBe(d2.expiries.marketing);
  });

  it('when the receipts module cannot load (offline), keeps the decision and makes its receipt later, in order', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    let online = false;
    const load = () =>
      online ? import('../../src/core/delivery.ts') : Promise.reject(new TypeError('Failed to fetch chunk'));
    const cfg = siteConfig();
    const a = track(createConsentWith(load, cfg, { gpc: false }));
    const d1 = await a.acceptAll();
    const d2 = await a.rejectAll();
    expect(a.has('analytics')).toBe(false);
    online = true;
    window.dispatchEvent(new Event('online'));
    const d3 = await a.acceptAll();
    const pending = (await a.receipts()).pending;
    expect(pending.map((r) => r.receiptId)).toEqual([d1.receiptId, d2.receiptId, d3.receiptId]);
    expect(pending.map((r) => r.previousReceiptId)).toEqual([null, d1.receiptId, d2.receiptId]);
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining('[assenso] receipts module could not load'),
      expect.any(TypeError),
    );
    errors.mockRestore();
  });

  it('a page left right after the click keeps the decision, and the next page makes its receipt', async () => {
    const cfg = siteConfig();
    // The receipts module never arrives on the first page (the visitor navigates away while it loads).
    const a = track(createConsentWith(() => new Promise<never>(() => {}), cfg, { gpc: false }));
    a.start();
    const applied = new Promise((r) => a.on('change', () => r(document.cookie)));
    void a.acceptAll();
    // Applied and mirrored to the cookie without waiting for the receipt.
    const cookie = await applied;
    const d = a.getState().decision!;
    expect(cookie).toContain(`id=${d.receiptId}`);
    a.destroy();
    const b = track(createConsent(cfg, { gpc: false }));
    await b.start();
    expect(b.getState().decision?.receiptId).toBe(d.receiptId);
    expect(b.getState().prompt).toBeNull();
    const pending = (await b.receipts()).pending;
    expect(pending.map((r) => r.receiptId)).toEqual([d.receiptId]);
  });

  it('a page that goes while its receipt enters the outbox keeps it to make: the next page makes it, once', async () => {
    const cfg = siteConfig();
    // The outbox write of the decision never ends on the first page (it unloads while IndexedDB commits).
    let entering!: () => void;
    const entered = new Promise<void>((r) => {
      entering = r;
    });
    const stuck = () =>
      import('../../src/core/delivery.ts').then((m) => ({
        ...m,
        addReceipts: (jobs: unknown[]) => {
          if (!jobs.length) return Promise.resolve();
          entering();
          return new Promise<never>(() => {});
        },
      }));
    const a = track(createConsentWith(stuck, cfg, { gpc: false }));
    void a.acceptAll();
    await entered;
    const d = a.getState().decision!;
    a.destroy();
    const b = track(createConsent(cfg, { gpc: false }));
    await b.start();
    await b.flush();
    expect((await b.receipts()).pending.map((r) => r.receiptId)).toEqual([d.receiptId]);
    // Made again by a third page (the second one's cleanup lost too): still one in the outbox.
    const c = track(createConsent(cfg, { gpc: false }));
    const store = createStorage(cfg.siteId).state;
    await store.set('later', [{ d, notice: undefined, last: null }]);
    await c.start();
    await c.flush();
    expect((await c.receipts()).pending.map((r) => r.receiptId)).toEqual([d.receiptId]);
  });

  it("a receipt made on a later page hashes the deciding page's notice (its revision and categories)", async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const cfg = siteConfig({ revision: 'r1' });
    const shown = { language: 'en', texts: { bannerTitle: 'Hi' } };
    // The deciding page could not load the receipts module: the decision waits in `later`.
    const a = track(
      createConsentWith(() => Promise.reject(new TypeError('offline')), cfg, {
        gpc: false,
        getNotice: () => shown,
      }),
    );
    const d = await a.acceptAll();
    destroyAll();
    // The next page is on a new revision with another description: it makes the receipt.
    const edited = structuredClone(cfg);
    edited.revision = 'r2';
    edited.categories[1]!.description = 'Edited after the decision';
    const b = track(createConsent(edited, { gpc: false }));
    await b.start();
    const [r] = (await b.receipts()).pending;
    expect(r!.receiptId).toBe(d.receiptId);
    const expected = await noticeHash(noticeOf(resolveConfig(cfg), shown));
    expect(r!.noticeHash).toBe(expected);
    errors.mockRestore();
  });

  it("before the UI is there, hashes the language it will speak; the iframe placeholders' texts are hashed too", async () => {
    const deps: ConsentDeps = { gpc: false, language: 'de' };
    const cfg = siteConfig();
    const a = track(createConsent(cfg, deps));
    await a.allowService('yt');
    const [r1] = (await a.receipts()).pending;
    expect(r1!.language).toBe('de');
    // The video allowed on its own lasts the decision's expiresAt (marketing was never answered).
    expect(r1!.expiries).toEqual({ necessary: r1!.expiresAt, yt: r1!.expiresAt });
    expect(r1!.noticeHash).toBe(
      await noticeHash(noticeOf(resolveConfig(cfg), { language: 'de', texts: {} })),
    );
    // A placeholder filled on the page (the delivery chunk): its texts join what is hashed, as templates.
    const { fillPlaceholder } = await import('../../src/core/delivery.ts');
    const frame = document.createElement('iframe');
    fillPlaceholder(
      resolveConfig(cfg),
      deps,
      () => {},
      document.createElement('div'),
      frame,
      'yt',
      undefined,
    );
    await a.allowService('yt');
    const [, r2] = (await a.receipts()).pending;
    const texts = {
      'placeholder.text':
        'Dieser Inhalt wird von {service} bereitgestellt, das Cookies setzen kann. Er wird nur geladen, wenn Sie es erlauben.',
      'placeholder.allow': '{service} erlauben',
    };
    expect(r2!.noticeHash).toBe(await noticeHash(noticeOf(resolveConfig(cfg), { language: 'de', texts })));
  });

  it('stored garbage (later, device, outbox lists) is dropped, never sent, and stops nothing', async () => {
    const cfg = siteConfig();
    const { state, outbox } = createStorage(cfg.siteId);
    const bogus = { d: { receiptId: 'x', method: 'hack', categories: { analytics: 'yes' } }, last: 7 };
    await state.set('later', [null, {}, bogus]);
    await state.set('device', { id: 'x', last: 7 });
    await outbox.set('queue', [null]);
    await outbox.set('acked', [null]);
    const a = track(createConsent(cfg, { gpc: false }));
    await a.start();
    const d = await a.acceptAll();
    expect(d.deviceId).toMatch(DEVICE_ID_PATTERN);
    const log = await a.receipts();
    expect(log.pending.map((r) => r.receiptId)).toEqual([d.receiptId]);
    expect(log.pending[0]!.previousReceiptId).toBeNull();
    expect(log.acknowledged).toEqual([]);
    expect(await state.get('later')).toEqual([]);
    // The next page: the decision holds (a valid device id), and a second decision's receipt is made too.
    destroyAll();
    const b = track(createConsent(cfg, { gpc: false }));
    await b.start();
    expect(b.getState().prompt).toBeNull();
    const e = await b.rejectAll();
    expect((await b.receipts()).pending.map((r) => r.previousReceiptId)).toEqual([null, d.receiptId]);
    expect(e.deviceId).toBe(d.deviceId);
  });

  it('hashes the notice the UI supplies', async () => {
    const notice = {
      siteId: 'x',
      revision: '1',
      language: 'it',
      texts: { 'banner.title': 'Ciao' },
      categories: [],
    };
    const a = track(createConsent(siteConfig(), { gpc: false, getNotice: () => notice }));
    const b = track(
      createConsent(siteConfig(), {
        gpc: false,
        getNotice: () => ({ ...notice, texts: { 'banner.title': 'Hi' } }),
      }),
    );
    await a.acceptAll();
    await b.acceptAll();
    const [ra] = (await a.receipts()).pending;
    const [rb] = (await b.receipts()).pending;
    expect(ra!.language).toBe('it');
    expect(ra!.noticeHash).not.toBe(rb!.noticeHash);
  });
});

describe('delivery', () => {
  it('sends on decision; stored and duplicate are acknowledged and kept signed on the device', async () => {
    const s = server();
    const a = track(createConsent(siteConfig({ endpoint: `${endpoint}/` }), { gpc: false, fetch: s.fetch }));
    const d = await a.acceptAll();
    // The receipt is in the outbox when the decision resolves (before the server answers).
    expect((await a.receipts()).pending.map((r) => r.receiptId)).toEqual([d.receiptId]);
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    expect(s.calls[0]!.url).toBe(`${endpoint}/v1/receipts`);
    // One receipt: a keepalive request, so that it arrives even when the visitor leaves at once (see 'a full
    // flush is no keepalive request…'); a timeout on every request.
    expect(s.calls[0]!.init).toMatchObject({
      method: 'POST',
      keepalive: true,
      headers: { 'content-type': 'application/json' },
      signal: expect.any(AbortSignal),
    });
    const acks = vi.fn();
    a.on('acknowledged', acks);
    await s.reply(s.ok(s.calls[0]!.receipts, () => 'duplicate'));
    const log = await a.receipts();
    expect(log.pending).toEqual([]);
    expect(log.acknowledged.map((x) => x.receipt.receiptId)).toEqual([d.receiptId]);
    expect(acks).toHaveBeenCalledOnce();
  });

  it('backs off exponentially with full jitter on 5xx and network errors, then delivers', async () => {
    const s = server();
    const clock = manualClock();
    const a = track(
      createConsent(siteConfig({ endpoint }), { gpc: false, fetch: s.fetch, clock, random: () => 0.5 }),
    );
    await a.acceptAll();
    await s.reply(s.json(500, { type: 'x', title: 'boom', status: 500 }));
    expect(retries(clock)).toEqual([500]); // 0.5 × 1 s
    clock.advance(500);
    await s.reply(new TypeError('Failed to fetch'));
    expect(retries(clock)).toEqual([1000]); // 0.5 × 2 s
    // A new decision during the backoff waits for it (no hammering)…
    await a.rejectAll();
    expect(s.open()).toBe(0);
    clock.advance(1000);
    await vi.waitFor(() => expect(s.calls).toHaveLength(3));
    expect(s.calls[2]!.receipts).toHaveLength(2);
    await s.reply(s.ok(s.calls[2]!.receipts));
    await s.drained(a);
    expect(retries(clock)).toEqual([]);
  });

  it('retries when its timer fires a fraction of a millisecond early by the wall clock (as in Chromium)', async () => {
    const s = server();
    const clock = manualClock();
    const early = { ...clock, setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms - 0.5) };
    const a = track(
      createConsent(siteConfig({ endpoint }), {
        gpc: false,
        fetch: s.fetch,
        clock: early,
        random: () => 0.5301,
      }),
    );
    await a.acceptAll();
    await s.reply(s.json(500, { type: 'x', title: 'boom', status: 500 }));
    clock.advance(529.6);
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    await s.reply(s.ok(s.calls[1]!.receipts));
    await s.drained(a);
  });

  it('honours Retry-After on 429 and 503', async () => {
    const s = server();
    const clock = manualClock();
    const a = track(
      createConsent(siteConfig({ endpoint }), { gpc: false, fetch: s.fetch, clock, random: () => 0.01 }),
    );
    await a.acceptAll();
    await s.reply(s.json(429, { title: 'slow down' }, { 'retry-after': '30' }));
    expect(retries(clock)).toEqual([30_000]);
    clock.advance(30_000);
    await s.reply(s.json(503, {}, { 'retry-after': new Date(T0 + 30_000 + 120_000).toUTCString() }));
    expect(retries(clock)).toEqual([120_000]);
    expect(retryAfterMs('soon', 0)).toBeNull();
  });

  it('Retry-After is a lower bound from 1 s, capped at 10 minutes: 0, a past date or 30 days never retry in a loop', async () => {
    const s = server();
    const clock = manualClock();
    const a = track(
      createConsent(siteConfig({ endpoint }), { gpc: false, fetch: s.fetch, clock, random: () => 0.1 }),
    );
    const busy = (ra: string) => s.json(503, { title: 'busy', status: 503 }, { 'retry-after': ra });
    await a.acceptAll();
    // Each gave a delay of 0 (setTimeout fires at once past 2^31-1 ms): hundreds of requests a second.
    await s.reply(busy('0'));
    expect(retries(clock)).toEqual([1000]);
    clock.advance(1000);
    await s.reply(busy(new Date(clock.now() - 60_000).toUTCString())); // the device's clock is ahead
    expect(retries(clock)).toEqual([1000]);
    clock.advance(1000);
    await s.reply(busy('2592000'));
    expect(retries(clock)).toEqual([600_000]);
    clock.advance(600_000);
    await s.reply(busy('1'));
    expect(retries(clock)).toEqual([1000]); // above the jitter: 0.1 × 8 s
    clock.advance(1000);
    await s.reply(busy('1'));
    expect(retries(clock)).toEqual([1600]); // below it: 0.1 × 16 s
    expect(s.calls).toHaveLength(5);
  });

  it('going online retries at once', async () => {
    const s = server();
    const clock = manualClock();
    const a = track(createConsent(siteConfig({ endpoint }), { gpc: false, fetch: s.fetch, clock }));
    await a.acceptAll();
    await s.reply(new TypeError('offline'));
    expect(retries(clock)).toHaveLength(1);
    window.dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
  });

  it('going online while a send is failing retries at once after it, not after its backoff', async () => {
    const s = server();
    const clock = manualClock();
    const a = track(createConsent(siteConfig({ endpoint }), { gpc: false, fetch: s.fetch, clock }));
    await a.acceptAll();
    await vi.waitFor(() => expect(s.open()).toBe(1));
    // Back online while that send is still out; then it fails.
    window.dispatchEvent(new Event('online'));
    await s.reply(new TypeError('Failed to fetch'));
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
  });

  it('on pagehide sends what is queued with keepalive, even during a backoff', async () => {
    const s = server();
    const clock = manualClock();
    const a = track(createConsent(siteConfig({ endpoint }), { gpc: false, fetch: s.fetch, clock }));
    const d = await a.acceptAll();
    await s.reply(new TypeError('offline'));
    expect(retries(clock)).toHaveLength(1);
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    expect(s.calls[1]!.init.keepalive).toBe(true);
    expect(s.calls[1]!.receipts.map((r) => r.receiptId)).toEqual([d.receiptId]);
    await s.reply(s.ok(s.calls[1]!.receipts));
    await s.drained(a);
  });

  it('a rejected receipt does not block the others, is reported once and kept in the rejected list', async () => {
    const s = server();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const clock = manualClock();
    const cfg = siteConfig({ endpoint });
    // Three decisions made offline.
    const off = track(
      createConsent(cfg, { gpc: false, fetch: () => Promise.reject(new TypeError('offline')), clock }),
    );
    await off.acceptAll();
    await off.rejectAll();
    await off.acceptAll();
    off.destroy();
    const a = track(createConsent(cfg, { gpc: false, fetch: s.fetch, clock }));
    const rejected = vi.fn();
    a.on('rejected', rejected);
    await a.start();
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    expect(s.calls[0]!.receipts).toHaveLength(3);
    await s.reply(s.ok(s.calls[0]!.receipts, (i) => (i === 1 ? 'rejected' : 'stored')));
    await s.drained(a);
    const log = await a.receipts();
    expect(log.acknowledged).toHaveLength(2);
    expect(log.rejected.map((r) => r.receipt.receiptId)).toEqual([s.calls[0]!.receipts[1]!.receiptId]);
    expect(log.rejected[0]!.problem.status).toBe(422);
    expect(rejected).toHaveBeenCalledOnce();
    await a.flush();
    expect(s.calls).toHaveLength(1); // nothing left to send
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('rejected'))).toHaveLength(1);
    warn.mockRestore();
  });

  it('an unreachable endpoint never changes a decision, and receipts survive a restart (real IndexedDB)', async () => {
    const cfg = siteConfig({ endpoint });
    const down = () => Promise.reject(new TypeError('Failed to fetch'));
    const a = track(createConsent(cfg, { gpc: false, fetch: down }));
    const d = await a.rejectAll();
    await a.flush();
    expect(a.getState().decision?.receiptId).toBe(d.receiptId);
    expect(a.has('analytics')).toBe(false);
    a.destroy();

    const s = server();
    const b = track(createConsent(cfg, { gpc: false, fetch: s.fetch }));
    void b.start();
    expect(b.getState().decision?.method).toBe('reject-all');
    await vi.waitFor(() => expect(s.calls).toHaveLength(1)); // flushed on load
    expect(s.calls[0]!.receipts.map((r) => r.receiptId)).toEqual([d.receiptId]);
    await s.reply(s.ok(s.calls[0]!.receipts));
    expect((await b.receipts()).acknowledged).toHaveLength(1);
    expect(b.has('analytics')).toBe(false);
  });
});

describe('outbox batching and locks', () => {
  const receipt = (i: number): Receipt => ({
    schema: 'assenso.receipt/1',
    receiptId: crypto.randomUUID(),
    siteId: 'x',
    deviceId: null,
    collectedAt: T0 + i,
    revision: '1',
    noticeHash: `sha256:${'0'.repeat(64)}`,
    language: 'en',
    method: 'api',
    categories: { a: true },
    services: {},
    expiresAt: T0 + 1e9,
    previousReceiptId: null,
  });
  const outbox = (
    send: ReturnType<typeof createTransport>,
    lock = `l${uid()}`,
    clock = manualClock(),
    emit: (type: string, e: unknown) => void = () => {},
  ) =>
    createOutbox({
      store: createKeyValueStore(`ob${uid()}`),
      send,
      clock,
      random: () => 0.5,
      lock,
      emit: emit as never,
      locks: navigator.locks,
    });

  it('sends at most 100 receipts per request, in order', async () => {
    const s = server();
    const ob = outbox(createTransport(endpoint, s.fetch, () => T0));
    const all = Array.from({ length: 150 }, (_, i) => receipt(i));
    for (const r of all) await ob.add(r);
    const done = ob.flush();
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    expect(s.calls[0]!.receipts).toHaveLength(100);
    await s.reply(s.ok(s.calls[0]!.receipts));
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    await s.reply(s.ok(s.calls[1]!.receipts));
    await done;
    expect([...s.calls[0]!.receipts, ...s.calls[1]!.receipts].map((r) => r.receiptId)).toEqual(
      all.map((r) => r.receiptId),
    );
    expect((await ob.log()).pending).toEqual([]);
  });

  it('halves the batch on 413', async () => {
    const s = server();
    const ob = outbox(createTransport(endpoint, s.fetch, () => T0));
    for (let i = 0; i < 4; i++) await ob.add(receipt(i));
    void ob.flush();
    await s.reply(s.json(413, { status: 413 }));
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    expect(s.calls[1]!.receipts).toHaveLength(2);
  });

  it('only one tab flushes at a time (Web Locks)', async () => {
    const s = server();
    const lock = `l${uid()}`;
    const send = createTransport(endpoint, s.fetch, () => T0);
    const tab1 = outbox(send, lock);
    const tab2 = outbox(send, lock);
    await tab1.add(receipt(1));
    await tab2.add(receipt(2));
    const f1 = tab1.flush();
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    await tab2.flush(); // the lock is held: tab 2 does not send
    expect(s.calls).toHaveLength(1);
    await s.reply(s.ok(s.calls[0]!.receipts));
    await f1;
    void tab2.flush();
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    expect(s.calls[1]!.receipts).toHaveLength(1);
  });

  it('a flush that found the lock held sends once the holder is done, without another flush', async () => {
    const s = server();
    const lock = `l${uid()}`;
    const send = createTransport(endpoint, s.fetch, () => T0);
    // The holder never reads this tab's receipt (a page unloading, or past its last read of the queue).
    const holder = outbox(send, lock);
    const tab = outbox(send, lock);
    await holder.add(receipt(1));
    await tab.add(receipt(2));
    const held = holder.flush();
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    await tab.flush(); // the lock is held: nothing sent now
    expect(s.calls).toHaveLength(1);
    await s.reply(s.ok(s.calls[0]!.receipts));
    await held;
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    expect(s.calls[1]!.receipts).toHaveLength(1);
    await s.reply(s.ok(s.calls[1]!.receipts));
    await vi.waitFor(async () => expect((await tab.log()).pending).toEqual([]));
  });

  it('a full flush is no keepalive request; the pagehide beacon is, at most 32 KiB, and its failure backs nothing off', async () => {
    const s = server();
    const clock = manualClock();
    const ob = outbox(createTransport(endpoint, s.fetch, clock.now), undefined, clock);
    // 60 receipts of about 800 B: one flush (≤ 64 KiB), more than one beacon would carry.
    const services = Object.fromEntries(Array.from({ length: 24 }, (_, k) => [`service-number-${k}`, true]));
    const all = Array.from({ length: 60 }, (_, i) => ({ ...receipt(i), services }));
    for (const r of all) await ob.add(r);
    const size = (c: Call) => new TextEncoder().encode(c.init.body as string).length;
    void ob.flush();
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    // A keepalive body shares Chromium's 64 KiB budget with the page's own beacons in flight: any of them
    // made each full batch fail before it left (status 0, backed off up to 10 minutes).
    expect(s.calls[0]!.init.keepalive).toBe(false);
    expect(s.calls[0]!.receipts).toHaveLength(60);
    expect(size(s.calls[0]!)).toBeGreaterThan(32 * 1024);
    await s.reply(new TypeError('Failed to fetch'));
    expect(retries(clock)).toEqual([500]);
    ob.beacon();
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    const beacon = s.calls[1]!;
    expect(beacon.init.keepalive).toBe(true);
    expect(size(beacon)).toBeLessThanOrEqual(32 * 1024);
    expect(beacon.receipts.length).toBeGreaterThan(1);
    expect(beacon.receipts.map((r) => r.receiptId)).toEqual(
      all.slice(0, beacon.receipts.length).map((r) => r.receiptId),
    );
    // Refused by the browser (the budget is taken): no further backoff; the next flush sends them all.
    await s.reply(new TypeError('Failed to fetch'));
    expect(retries(clock)).toEqual([500]);
    clock.advance(500);
    await vi.waitFor(() => expect(s.calls).toHaveLength(3));
    expect(s.calls[2]!.init.keepalive).toBe(false);
    expect(s.calls[2]!.receipts.map((r) => r.receiptId)).toEqual(all.map((r) => r.receiptId));
    await s.reply(s.ok(s.calls[2]!.receipts));
    expect((await ob.log()).pending).toEqual([]);
  });

  it('a receipt both the pagehide beacon and the flush deliver is acknowledged once', async () => {
    const s = server();
    const clock = manualClock();
    const told: string[] = [];
    const ob = outbox(createTransport(endpoint, s.fetch, clock.now), undefined, clock, (type, e) =>
      told.push(`${type} ${(e as { receipt?: Receipt }).receipt?.receiptId}`),
    );
    const r = receipt(0);
    await ob.add(r);
    const flushed = ob.flush();
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    ob.beacon(); // pagehide while the flush is out (the page then comes back from the back/forward cache)
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    await s.reply(s.ok(s.calls[0]!.receipts));
    await s.reply(s.ok(s.calls[1]!.receipts, () => 'duplicate'));
    await flushed;
    expect(told.filter((t) => t.startsWith('acknowledged'))).toEqual([`acknowledged ${r.receiptId}`]);
    expect((await ob.log()).acknowledged).toHaveLength(1);
  });

  it('a send never answered holds the lock no longer than 15 s: the other tab delivers, the beacon goes out', async () => {
    const lock = `l${uid()}`;
    const clock = manualClock();
    // Tab 1's server never answers, and its fetch ignores the transport's abort: the outbox's own bound.
    const dead = server();
    const tab1 = outbox(createTransport(endpoint, dead.fetch, clock.now), lock, clock);
    const s = server();
    const tab2 = outbox(createTransport(endpoint, s.fetch, clock.now), lock, manualClock());
    await tab1.add(receipt(1));
    await tab2.add(receipt(2));
    void tab1.flush();
    await vi.waitFor(() => expect(dead.calls).toHaveLength(1));
    await tab2.flush(); // the lock is held: tab 2 waits for it
    // pagehide meanwhile: the beacon goes too (a large flush, no keepalive request, would end with the page).
    tab1.beacon();
    await vi.waitFor(() => expect(dead.calls).toHaveLength(2));
    expect(dead.calls[1]!.init.keepalive).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.calls).toHaveLength(0);
    clock.advance(14_999);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.calls).toHaveLength(0);
    // No answer after 15 s: a network failure; tab 1 backs off and lets go of the lock.
    clock.advance(1);
    await vi.waitFor(() => expect(s.calls).toHaveLength(1));
    expect(retries(clock)).toEqual([500]);
    await s.reply(s.ok(s.calls[0]!.receipts));
    await vi.waitFor(async () => expect((await tab2.log()).pending).toEqual([]));
    // Its retry sends again (and is bounded the same way).
    clock.advance(500);
    await vi.waitFor(() => expect(dead.calls).toHaveLength(3));
    expect(dead.calls[2]!.receipts.map((r) => r.receiptId)).toEqual(
      dead.calls[0]!.receipts.map((r) => r.receiptId),
    );
  });

  it('the transport aborts a request not answered within 15 s: a network failure', async () => {
    // The browser's own timer cannot be driven by the test: the signal it would make is the test's.
    const timer = new AbortController();
    const timeout = vi.spyOn(AbortSignal, 'timeout').mockReturnValue(timer.signal);
    // As fetch does: a request whose signal aborts rejects with the signal's reason.
    const hung = ((_: string, init: RequestInit) =>
      new Promise((_, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      )) as unknown as typeof fetch;
    const res = createTransport(endpoint, hung, () => T0)([receipt(1)], false);
    expect(timeout).toHaveBeenCalledWith(15_000);
    timer.abort(new DOMException('signal timed out', 'TimeoutError'));
    expect(await res).toEqual({ ok: false, status: 0, retryAfter: null, problem: null });
    timeout.mockRestore();
  });
});
