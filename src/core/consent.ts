import { DEVICE_ID_PATTERN, RECEIPT_ID_PATTERN } from '../protocol/ids.ts';
import { idle, newDeviceId, newReceiptId, systemClock } from './clock.ts';
import { checkConfig, type Issue } from './config.ts';
import { createCookieMirror } from './cookie-mirror.ts';
import { DAY, decide, evaluate, readDecision, services } from './decision.ts';
import { announce, createEmitter, report } from './events.ts';
import { createGating } from './gating.ts';
import type { ShownNotice } from './notice.ts';
import { createConsentMode, gpcCategories, gpcSignal } from './signals.ts';
import { createStorage, HANG_MS } from './storage.ts';
import { createTabs, type TabMessage } from './tabs.ts';
import type {
  ChangeSource,
  Choices,
  ConsentController,
  ConsentDeps,
  ConsentState,
  Decision,
  EventMap,
  Method,
  Notice,
  ResolvedCategory,
  SaveInput,
  View,
} from './types.ts';

type Device = { id: string; last: string | null };
type Choice = Pick<SaveInput, 'categories' | 'services'>;
type Outbox = ReturnType<typeof import('./outbox.ts').createOutbox>;
/** The lazily loaded part (src/core/delivery.ts). */
export type Delivery = typeof import('./delivery.ts');
/**
 * A decision whose receipt is still to be made (the delivery module could not load, e.g. offline): with the
 * notice as shown then (texts, and the categories as configured then), in case a later page makes it.
 */
export type Job = {
  d: Decision;
  notice: ShownNotice | undefined;
  last: string | null;
  cats?: ResolvedCategory[];
};

/**
 * `createConsent` (create.ts) with the loader of src/core/delivery.ts given by the caller: the script-tag
 * build passes one that fetches it as a separate chunk, so that receipts and the outbox stay off the path to
 * the banner. (No import() of it in this file: an IIFE that holds one inlines the chunk's modules behind
 * lazy-initialisation wrappers, about 90 B brotli for nothing.)
 */
export function createConsentWith(
  loadDelivery: () => Promise<Delivery>,
  input: unknown,
  deps: ConsentDeps = {},
): ConsentController {
  const issues: Issue[] = [];
  const cfg = checkConfig(input, (i) => issues.push(i));
  const clock = deps.clock ?? systemClock;
  const newId = deps.newId ?? newReceiptId;
  const events = createEmitter<EventMap>();
  const subs = new Set<(s: ConsentState) => void>();
  const allServices = services(cfg);
  const win = globalThis.window as Window | undefined;
  // The decision state and the outbox. No I/O until the first call (IndexedDB opens then); made here, not in
  // start(), so that a controller destroyed before it started still answers from them: receipts(), deviceId().
  const { state: kv, outbox: outboxKv } = deps.storage ?? createStorage(cfg.siteId);
  let gpc: string[] = [];
  let state: ConsentState = {
    started: false,
    decision: null,
    ...evaluate(cfg, null, 0, []),
    prompt: null,
    gpc: { active: false, categories: [] },
    view: 'none',
  };
  let ready: Promise<void> | undefined;
  let loaded: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let receipts: Promise<void> = Promise.resolve();
  let parts: ReturnType<typeof init> | undefined;
  let tabs: ReturnType<typeof createTabs> | undefined;
  let destroyed = false;
  let told = 0;
  /** When the decision was last reset (here or in another tab): a decision from elsewhere older than that is none. */
  let cleared = 0;
  /**
   * The revision of the decision in the cookie when this page started: one this page's policy replaced. Another
   * one found there later was written by a page that loaded a newer policy than this one (make()).
   */
  let seen: string | undefined;
  const off: (() => void)[] = [];
  let mod: Promise<Delivery> | undefined;
  let outbox: Outbox | undefined;
  /** Receipts and the outbox: loaded after start-up, off the path to the banner. */
  const lazy = () => {
    mod ??= loadDelivery().then(
      // Bad keys: one warning each, worded by the chunk (those found here, then its cross-checks).
      (m) => {
        m.warnIssues(issues.splice(0), cfg, input);
        return m;
      },
      (e) => {
        mod = undefined; // a failed chunk load (offline) is retried next time
        throw e;
      },
    );
    return mod;
  };
  // With bad keys the chunk comes at once; if it cannot load, each key is named alone.
  if (issues.length)
    lazy().catch(() => {
      for (const [path] of issues.splice(0))
        console.warn(`[assenso] config.${path} is invalid; a default is used`);
    });
  const box = async () => {
    const m = await lazy();
    outbox ??= m.openOutbox(cfg, deps, { store: outboxKv, clock, emit: events.emit });
    return outbox;
  };

  const setState = (patch: Partial<ConsentState>) => {
    const view = state.view;
    state = { ...state, ...patch };
    for (const fn of [...subs])
      try {
        fn(state);
      } catch (e) {
        report('subscriber threw', e);
      }
    if (state.view !== view) events.emit('view', state.view);
  };

  /** The ids of `n` that `o` (or `p`) grants and `n` does not, nor `k` (what stays allowed elsewhere). */
  const lost = (o: Choices, n: Choices, p: Choices = {}, k: Choices = {}) =>
    Object.keys(n).filter((id) => (o[id] || p[id] === true) && !n[id] && !k[id]);

  /** Applies a decision (or none): state, revocation clean-up, gating, Consent Mode, events. */
  const apply = (d: Decision | null, source: ChangeSource) => {
    // Destroyed (React StrictMode destroys its first controller, the second runs the page): a decision still on
    // its way is stored, and the next page applies it, but this one changes nothing on the page and tells nobody.
    if (destroyed) return;
    const p = parts!;
    const previous = state.decision;
    const now = clock.now();
    // A stored decision read with GPC on since (no banner asks about what GPC denies, so no later decision would
    // clean up): what it granted and GPC denies now is withdrawn, cookies and all.
    const before = !previous && d && source === 'storage' ? evaluate(cfg, d, now, []).granted : state.granted;
    const { granted, prompt } = evaluate(cfg, d, now, gpc);
    setState({
      decision: d,
      granted,
      prompt,
      // (GPC's own record of a withdrawal is no answer of the visitor's: an open preference center stays. So
      // does one open while a decision comes from elsewhere, another tab or a sibling subdomain: it follows it,
      // its unsaved switches reset; closing it under the visitor's hands lost what they were doing.)
      view: prompt
        ? state.view === 'none'
          ? 'banner'
          : state.view
        : d?.method === 'gpc' || (source !== 'local' && state.view === 'preferences')
          ? state.view
          : 'none',
    });
    // Lost: granted on this page, or by the decision this one replaces. After a revision change or an expiry the
    // page starts with nothing granted, but the scripts the old decision allowed on earlier pages left cookies.
    // A decision of another revision (the visitor's answer in a tab on the other policy) grants nothing here
    // until asked, but what it allows is no withdrawal: those services' cookies stay (that tab's scripts use them).
    // So is the cookie's of another revision that this page's answer to an older policy left in force (make()).
    const other = [d, p.mirror.read(now)].find((x) => x?.revision !== cfg.revision);
    const revoked = {
      categories: lost(before.categories, granted.categories, previous?.categories, other?.categories),
      services: lost(before.services, granted.services, previous?.services, other?.services),
    };
    // Revocation clean-up comes with the delivery chunk (already here after start-up, as a rule).
    const gone = allServices.filter((s) => revoked.services.includes(s.id));
    if (gone.length)
      lazy().then(
        (m) => {
          for (const x of gone) m.clearServiceData(x);
        },
        (e) => report('cookies of revoked services could not be cleared', e),
      );
    if (revoked.services.length || revoked.categories.length) events.emit('revoke', revoked);
    // Consent Mode first: a gated script that calls gtag() (a config, an event) must find the update there.
    if (d || previous) p.mode.update(granted.categories);
    p.gating.apply();
    if (d || previous) {
      const change = { decision: d, previous, granted, source };
      events.emit('change', change);
      if (win) announce(win, change);
    }
    schedule();
  };

  /**
   * What has expired since the decision was applied, or a decision made elsewhere: applied when the visitor
   * comes back to the tab, and at the next expiry while the tab stays open (a timer, re-armed after each check).
   */
  let expiry: unknown;
  const recheck = () => {
    fresh();
    const d = state.decision;
    const now = evaluate(cfg, d, clock.now(), gpc);
    if (d && JSON.stringify(now) !== JSON.stringify({ granted: state.granted, prompt: state.prompt }))
      apply(d, 'storage');
    else schedule();
  };
  const schedule = () => {
    const d = state.decision;
    const now = clock.now();
    clock.clearTimeout(expiry);
    // (A lifetime shortened since the decision counts too: decision.ts, until().)
    const next = Math.min(
      ...(d
        ? [
            ...Object.values(d.expiries),
            d.expiresAt,
            ...cfg.categories.map((c) => d.decidedAt + c.lifetimeDays * DAY),
          ]
        : []
      ).filter((t) => t > now),
    );
    // (Timers hold at most 2^31 - 1 ms, about 24.8 days.)
    if (!destroyed && next < 1 / 0) expiry = clock.setTimeout(recheck, Math.min(next - now, 2 ** 31 - 1));
  };

  /** Builds the effectful parts; called once, from start(). */
  function init() {
    return {
      mirror: createCookieMirror(cfg),
      mode: createConsentMode(cfg),
      gating: createGating({
        cfg,
        has,
        fill: (...a) =>
          lazy().then(
            (m) => m.fillPlaceholder(cfg, deps, (id) => void allowService(id), ...a),
            // Tried again at every scan (each DOM change, offline): said once.
            (e) => told++ || report('iframe placeholder could not be shown', e),
          ),
        nonce: deps.nonce,
      }),
    };
  }

  /**
   * Whether a decision from elsewhere (another tab, the cookie) replaces this page's: the newer one wins, as in
   * the cookie, when two tabs decide at once. Also one of another revision: a tab still on the old policy kept
   * granting what the visitor refused on the new one, and built its next decision on the old choices, written
   * over the newer one. It grants nothing then and asks (reason `revision`, prefilled); only the visitor's answer
   * moves the other tab in turn (GPC's withdrawal is of the tab's own revision), never back and forth. The answer
   * there, to the older policy, moves the newer policy's tabs only if it withdraws something (make()).
   */
  const newer = (d: Decision) =>
    d.receiptId !== state.decision?.receiptId &&
    d.decidedAt >= Math.max(cleared, state.decision?.decidedAt ?? 0);
  /**
   * The cookie may hold a newer decision that no message brought (a tab on a sibling subdomain): taken first.
   * Returns the cookie's decision.
   */
  const fresh = () => {
    const m = parts!.mirror;
    const d = m.read(clock.now());
    if (d && newer(d)) apply(d, 'storage');
    // Reset on a sibling subdomain sharing the cookie (no message reaches here): forgotten here too.
    else if (state.decision && m.reset > state.decision.decidedAt) forget(m.reset, 'storage');
    else cleared = Math.max(cleared, m.reset);
    return d;
  };

  /** The channel to the site's other tabs: opened after start-up (or by the first decision, if sooner). */
  const channel = () =>
    (tabs ??= createTabs(`assenso:${deps.channel ?? cfg.siteId}`, (m: TabMessage) => {
      if (m.type === 'reset') {
        // Not one older than this tab's decision: made after the reset (in turn, under the lock), that decision
        // is the cookie's, and its message to the resetting tab crossed this one. (A tab on an older script sends
        // no time: 0, not NaN, which no later decision would pass in newer().)
        if (!((state.decision?.decidedAt ?? 0) >= m.at)) forget(m.at || 0, 'tab');
      } else {
        const d = readDecision(m.decision, clock.now());
        // An answer to an older policy that left the newer one in force (make()): for the tabs on that policy.
        if (d && newer(d) && !(m.old && d.revision !== cfg.revision)) apply(d, 'tab');
      }
    }));
  /** Forgets the decision (a reset, here or in another tab) as of `at`. */
  const forget = (at: number, source: ChangeSource) => {
    cleared = at;
    apply(null, source);
  };

  /**
   * IndexedDB is the record; the cookie may be newer (another subdomain, the server) or gone (Safari ITP).
   * Read once, off the start-up task: when the browser is idle, or at once when a decision needs it. One from
   * the future (readDecision) is none here too: neither applied nor written back to the cookie, which refuses it.
   */
  const load = () =>
    (loaded ??= (async () => {
      const p = parts!;
      const fromCookie = state.decision;
      let stored = readDecision(await kv.get('decision'), clock.now());
      // Reset since (here or on a sibling subdomain): no decision, and not one to write back to the cookie.
      if (stored && stored.decidedAt < cleared) {
        stored = null;
        await kv.del('decision');
      }
      if (stored?.receiptId !== fromCookie?.receiptId) {
        if (stored && (!fromCookie || stored.decidedAt > fromCookie.decidedAt)) {
          p.mirror.write(stored, clock.now());
          apply(stored, 'storage');
        } else if (fromCookie) await kv.set('decision', fromCookie);
      }
    })());

  /** Storage, GPC and Consent Mode's `default` (before any tag can read it); nothing on the page yet. */
  function boot(): void {
    if (parts) return;
    try {
      const p = init();
      const active = deps.gpc ?? gpcSignal();
      gpc = gpcCategories(cfg, active);
      p.mode.default();
      state = { ...state, gpc: { active: active && cfg.gpc, categories: gpc } };
      parts = p;
    } catch (error) {
      report('start failed', error);
    }
  }

  function start(): Promise<void> {
    if (ready) return ready;
    try {
      boot();
      // (If boot failed, it said so, and this throws: start-up ends here.)
      const p = parts!;
      state = { ...state, started: true };
      const mirrored = p.mirror.read(clock.now());
      seen = mirrored?.revision;
      cleared = p.mirror.reset;
      // IndexedDB, the receipts kept for later and the outbox flush wait for an idle moment, after this task:
      // the banner (or the page) comes first (a decision made before then reads IndexedDB itself). Set before
      // any listener hears of start-up, so that one that calls the API (receipts(), set()) joins this start-up:
      // it started it again, and again, until the stack overflowed.
      ready = idle()
        .then(load)
        .then(async () => {
          if (destroyed) return;
          // A stored decision that GPC overrides now (it was off when the visitor decided): the withdrawal is
          // recorded, method `gpc`, so that the receipts (and the server) say what applies; also of a service
          // allowed on its own (a placeholder's "Allow"), which the cookie said was allowed. Asked again in make(),
          // once another tab's withdrawal is read: each open tab recorded it (a session restore, several receipts).
          const withdrawn = () => {
            const d = state.decision;
            const off = gpc.filter(
              (id) =>
                d &&
                !d.gpc &&
                d.revision === cfg.revision &&
                (d.categories[id] || allServices.some((s) => s.category === id && d.services[s.id])),
            );
            return off.length && { categories: all(false, off) };
          };
          if (withdrawn()) void make(withdrawn, 'gpc').catch(() => {});
          await receipt();
          void (await box()).flush();
        })
        .catch((error) => events.emit('error', { where: 'start', error }));
      // Then the stored decision at once.
      apply(mirrored, 'storage');
      // Scripts and iframes the parser (or the page) adds from now on are gated as they come: a returning
      // visitor's gated script at the end of the page runs as soon as it is parsed.
      p.gating.observe();
      events.emit('ready', state);
      // The rest in a task of its own, so that start-up is no long task on a slow phone: the other tabs and
      // the window's events.
      setTimeout(() => {
        if (destroyed) return;
        channel();
        const on = (t: string, fn: () => void) => {
          win?.addEventListener(t, fn);
          off.push(() => win?.removeEventListener(t, fn));
        };
        on('online', () => {
          void receipt().catch(() => {});
          void outbox?.flush(true);
        });
        on('pagehide', () => outbox?.beacon());
        // A tab the visitor comes back to: a decision made meanwhile elsewhere, then what has expired since
        // (asked again, and no longer granted), even while the banner already asks about something else.
        on('visibilitychange', recheck);
      });
    } catch (error) {
      report('start failed', error);
      ready = Promise.resolve();
    }
    return ready;
  }

  /** The device record: only one of ours counts (anything else made every decision invalid, for good). */
  const device = async (): Promise<Device> => {
    const d = await kv.get<Device>('device');
    return {
      id: DEVICE_ID_PATTERN.test(d?.id as string) ? d!.id : (state.decision?.deviceId ?? newDeviceId()),
      last: RECEIPT_ID_PATTERN.test(d?.last as string) ? d!.last : (state.decision?.receiptId ?? null),
    };
  };

  /**
   * Builds the receipts kept in IndexedDB (`later`) into the outbox, in decision order, one run at a time.
   * When the module cannot load (offline on a fresh page) they stay there and nothing is lost.
   */
  const receipt = (): Promise<void> =>
    (receipts = receipts
      .catch(() => {})
      .then(async () => {
        // Destroyed: the jobs stay for the next page (or controller), which sends what it makes.
        if (destroyed) return;
        const later = await kv.get<Job[]>('later');
        if (!later?.length && outbox) return;
        let m: Delivery;
        try {
          m = await lazy();
        } catch (error) {
          if (later?.length) report('receipts module could not load; the receipt will be made later', error);
          return;
        }
        // Only jobs of ours: anything else (a bug's, a page script's) is dropped, never sent, never in the way.
        const valid = (l: unknown) =>
          (Array.isArray(l) ? (l as Job[]) : []).filter((j) => readDecision(j?.d));
        const jobs = valid(later);
        await m.addReceipts(jobs, await box(), cfg, events.emit);
        // Only once they are in the outbox (another database): a page that goes in between keeps them here and
        // the next one makes them again, where the outbox keeps one per receipt id. Cleared first, they were lost.
        const made = new Set(jobs.map((j) => j.d.receiptId));
        await kv.update<Job[]>('later', (l) => valid(l).filter((j) => !made.has(j.d.receiptId)));
      }));

  /**
   * Runs `fn` after every earlier decision, reset and start-up step (their order is the receipts' chain).
   * Not once destroyed, unless `always` (it reads or keeps the device's records, and changes nothing on the
   * page): the call resolves (undefined), and nothing is decided.
   */
  const serial = <T>(fn: () => Promise<T>, always?: 1): Promise<T> => {
    start();
    const run = queue.then(load).then(() => (destroyed && !always ? (undefined as T) : fn()));
    queue = run.catch(() => {});
    return run;
  };

  /**
   * Across the site's tabs too (a Web Lock, where the browser has them: not on plain http): "read the device's
   * last receipt, decide, write it" one tab at a time, or two tabs deciding at once fork the receipt chain.
   * A lock not granted in time (a tab that holds it hangs) is gone without.
   */
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const l = globalThis.navigator?.locks;
    let run: Promise<T> | undefined;
    const go = () => (run ??= fn());
    return l
      ? (l
          .request(`assenso:${cfg.siteId}`, { signal: AbortSignal.timeout?.(HANG_MS) }, go)
          .catch(go) as Promise<T>)
      : go();
  };

  /**
   * What the page shows now: the UI's language and texts (before the UI is there, the language it will speak),
   * and the iframe placeholders' texts.
   */
  const shown = (): ShownNotice => {
    const n = deps.getNotice?.() ?? ({ language: deps.language, texts: {} } as ShownNotice);
    return { ...n, texts: { ...n.texts, ...deps.shown } };
  };

  /**
   * Serialised: each decision chains to the previous receipt. Resolves once the receipt is queued. A `choice`
   * given as a function is made after the newest decision is read: none (0) decides nothing.
   */
  const make = (choice: Choice | (() => Choice | 0), method: Method): Promise<Decision> =>
    serial(async () => {
      const p = parts!;
      const d = await locked(async () => {
        const s = fresh();
        const c = typeof choice === 'function' ? choice() : choice;
        if (!c) return state.decision!;
        // After a reset heard from another tab too, whatever the clock says (as decide() dates after the decision
        // it replaces), so that the tab that reset takes it.
        const now = Math.max(clock.now(), cleared);
        const dev = await device();
        const d = decide(cfg, state.decision, {
          ...c,
          method,
          now,
          receiptId: newId(),
          deviceId: dev.id,
          gpc: state.gpc.active,
        });
        // An answer to an older policy than the cookie's decision (`old`): that one is of another revision than
        // the one found there at start-up, so a page that loaded a newer policy wrote it since (this tab was
        // opened before the site changed it). This answer is to the notice this page shows: its receipt is made
        // as every other (the evidence of what the visitor saw and chose), and it applies here and in the tabs on
        // this policy. But the answer to the policy the site shows now stays in force, in the cookie, IndexedDB,
        // its tabs and the next pages: written over, it was lost, and they asked again. Unless this one refuses
        // something that one allows: a withdrawal counts everywhere, so it replaces it, and the new policy asks.
        const old =
          !!s &&
          s.revision !== cfg.revision &&
          s.revision !== seen &&
          !lost(s.categories, d.categories).length &&
          !lost(s.services, d.services).length;
        // Durable first (the receipt to make, in IndexedDB), then the cookie mirror and the page, so that a
        // navigation right after the click keeps the decision, and its receipt is made on the next page.
        await kv.update<Job[]>('later', (l) => [
          ...(Array.isArray(l) ? l : []),
          { d, notice: shown(), last: dev.last, cats: cfg.categories },
        ]);
        if (!old) p.mirror.write(d, now);
        apply(d, 'local');
        channel().post({ type: 'decision', decision: d, old });
        if (!old) await kv.set('decision', d);
        // (The receipts' chain is the device's, whichever decision is in force.)
        await kv.set('device', { id: dev.id, last: d.receiptId });
        return d;
      });
      await receipt();
      if (!destroyed) void outbox?.flush();
      return d;
    });

  /** Every optional category, or only those the banner asks about (`only`: the others keep their choice). */
  const all = (v: boolean, only?: string[]) => {
    const out: Choices = {};
    for (const c of cfg.categories)
      if (!c.required && (!only || only.includes(c.id))) out[c.id] = v && !gpc.includes(c.id);
    return out;
  };

  function has(id: string) {
    // Own keys only: an id named `constructor` or `toString` (a typo, a page's data attribute) read the
    // objects' inherited functions, which are truthy, and its scripts ran without consent.
    const { categories: c, services: s } = state.granted;
    return Object.hasOwn(c, id) ? c[id] === true : Object.hasOwn(s, id) && s[id] === true;
  }
  function allowService(id: string) {
    const isCat = cfg.categories.some((c) => c.id === id);
    return make(isCat ? { categories: { [id]: true } } : { services: { [id]: true } }, 'service');
  }

  return {
    config: cfg,
    start,
    boot,
    getState: () => state,
    subscribe(fn) {
      subs.add(fn);
      return () => void subs.delete(fn);
    },
    acceptAll: (only, method = 'accept-all') => make({ categories: all(true, only) }, method),
    rejectAll: (only, method = 'reject-all') => make({ categories: all(false, only) }, method),
    close: (only) => make({ categories: all(false, only) }, 'close'),
    save: (i) => make(i, i.method ?? 'preferences'),
    allowService,
    has,
    // Destroyed: nothing shows (a second mount, React StrictMode's, shows the live controller's).
    open(view: View = 'preferences', notice?: Notice) {
      if (!destroyed) setState({ view, notice });
    },
    hide() {
      if (!destroyed) setState({ view: state.prompt ? 'banner' : 'none', notice: undefined });
    },
    on: events.on,
    // Under the lock, as a decision: racing one in another tab, the tabs ended swapped, and the cookie with them.
    reset: () =>
      serial(() =>
        locked(async () => {
          const p = parts!;
          const now = clock.now();
          // Dated after the decision it removes: the cookie's, the newest under the lock (also another tab's made
          // just before, its message still on the way). The tabs that hold or then hear it drop it (newer(), the
          // channel).
          const at = Math.max(now, (p.mirror.read(now)?.decidedAt ?? 0) + 1);
          await kv.del('decision');
          p.mirror.clear(at);
          forget(at, 'local');
          channel().post({ type: 'reset', at });
        }),
      ),
    async receipts() {
      await start();
      return (await box()).log();
    },
    notice: (language) => lazy().then((m) => m.noticeOf(cfg, language ? { language, texts: {} } : shown())),
    async flush() {
      await start();
      // Decisions whose receipts are still to be made (`later`) first: flushed means the server has them all.
      await receipt();
      if (!destroyed) await (await box()).flush(true);
    },
    deviceId: () =>
      serial(async () => {
        const dev = await device();
        await kv.set('device', dev);
        return dev.id;
      }, 1),
    adopt: (given, basis) =>
      serial(async () => {
        const p = parts!;
        // As every decision read: checked, and its maps without a prototype.
        const d = readDecision(given);
        if (
          destroyed ||
          !d ||
          (basis !== undefined && (state.decision?.receiptId ?? null) !== basis) ||
          (await kv.get<Job[]>('later'))?.length ||
          (await (await box()).log()).pending.length
        )
          return false;
        const dev = await device();
        await kv.set('decision', d);
        await kv.set('device', { id: dev.id, last: d.receiptId });
        p.mirror.write(d, clock.now());
        apply(d, 'sync');
        channel().post({ type: 'decision', decision: d });
        return true;
      }, 1),
    destroy() {
      destroyed = true;
      // Not started, or IndexedDB not read yet: neither will be, by a later call (the observer, Consent Mode).
      loaded ??= Promise.resolve();
      ready ??= loaded;
      clock.clearTimeout(expiry);
      parts?.gating.disconnect();
      // Opened if it was not, so that it stays closed: a decision still on its way posts to no tab, and none is
      // heard (reopened by one, it heard the live controller's decisions and told the page again).
      channel().close();
      outbox?.stop();
      for (const f of off.splice(0)) f();
    },
  };
}
