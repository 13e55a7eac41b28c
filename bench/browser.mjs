// The widget in Chromium (issue 2): time from navigation to banner visible, the widget's main-thread time,
// long tasks and layout shift, against a page without the widget and a hand-written ~1 kB banner, in the same
// run, without and with 4× CPU throttling; and the returning visitor's gated-script delay against an ungated
// page. Every sample is a fresh browser context (a first visit: empty cache, cookies and IndexedDB), variants
// interleaved so drift hits all alike; medians reported. Bounded: `runs` samples per variant and condition.
import { chromium } from 'playwright-core';
import { ensureChromium } from '../scripts/chromium.mjs';
import { createDemoServer } from '../scripts/demo-server.mjs';
import { benchPages } from './pages.mjs';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

// Observers registered before any page script runs, identical on every variant.
const OBSERVERS = () => {
  const w = /** @type {any} */ (window);
  w.__longTasks = [];
  w.__cls = 0;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) w.__longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((l) => {
    for (const e of /** @type {any[]} */ (l.getEntries())) if (!e.hadRecentInput) w.__cls += e.value;
  }).observe({ type: 'layout-shift', buffered: true });
  // Long animation frames (≥ 50 ms) that ran any of the widget's scripts, as [frame ms, longest run of one of
  // the widget's scripts in it]: the frame counts the page's own parsing, style and layout and every task of
  // the frame; a script entry (PerformanceScriptTiming: one task's callback, its forced style and layout
  // included) is the widget's own task, a long task of the widget's when it reaches 50 ms.
  w.__ours = [];
  new PerformanceObserver((l) => {
    for (const e of /** @type {any[]} */ (l.getEntries())) {
      const ours = e.scripts.filter((x) => /\/(assenso[^/]*\.js|chunks\/|i18n\/)/.test(x.sourceURL));
      if (ours.length)
        w.__ours.push([Math.round(e.duration), Math.round(Math.max(...ours.map((x) => x.duration)))]);
    }
  }).observe({ type: 'long-animation-frame', buffered: true });
};

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function open(browser, rate) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(OBSERVERS);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  if (rate > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return { context, page, cdp };
}

/** Main-thread task time (ms) the page has used so far, from Chromium's own counters. */
async function taskMs(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (n) => metrics.find((m) => m.name === n)?.value ?? 0;
  return { task: get('TaskDuration') * 1000, script: get('ScriptDuration') * 1000 };
}

/**
 * One first visit. `timing`: when the banner became visible (and FCP, and when the widget's script arrived).
 * `cost`: detector off, the page left to settle for a second, then Chromium's main-thread counters, long
 * tasks and layout shift.
 */
async function firstVisit(browser, url, rate, mode) {
  const { context, page, cdp } = await open(browser, rate);
  try {
    if (mode === 'timing') {
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForFunction("performance.getEntriesByName('first-contentful-paint').length > 0", null, {
        timeout: 15_000 * rate,
      });
      if (!url.endsWith('/none.html'))
        await page.waitForFunction('window.__bannerAt !== undefined', null, { timeout: 15_000 * rate });
      return await page.evaluate(() => {
        const w = /** @type {any} */ (window);
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
        const script = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/assenso.js'));
        // Nothing is visible before the first paint: a banner laid out earlier shows with it.
        return {
          bannerAt: w.__bannerAt === undefined ? null : Math.max(w.__bannerAt, fcp ?? 0),
          fcp,
          scriptEnd: script ? /** @type {PerformanceResourceTiming} */ (script).responseEnd : null,
        };
      });
    }
    await page.goto(`${url}?nodetect`, { waitUntil: 'load' });
    await page.waitForTimeout(1000);
    const m = await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      return { longTasks: w.__longTasks, ours: w.__ours, cls: w.__cls };
    });
    return { ...m, ...(await taskMs(cdp)) };
  } finally {
    await context.close();
  }
}

/** A returning visitor: decide on a first visit (accept all), then time the gated script on the next load. */
async function returningVisit(browser, base, variant, rate) {
  // No request interception here (context.route): it turns the browser's HTTP cache off, and the returning
  // visitor's assenso.js must come from it (the demo server delays /bench/block.js itself).
  const { context, page, cdp } = await open(browser, 1);
  try {
    const url = `${base}/bench/${variant}.html`;
    await page.goto(url, { waitUntil: 'load' });
    if (variant.startsWith('gated')) {
      await page.waitForFunction('window.__bannerAt !== undefined', null, { timeout: 15_000 * rate });
      await page.evaluate('window.assenso.acceptAll()');
      await page.waitForFunction('window.__ranAt !== undefined', null, { timeout: 15_000 * rate });
      await page.waitForTimeout(200); // the decision reaches the cookie mirror and IndexedDB
    }
    if (rate > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const second = await measuredLoad(page, url, rate);
    // The page view after it: Chromium made V8's code cache of assenso.js during the second load (in the
    // script's own task), and uses it from now on.
    if (variant !== 'gated' && variant !== 'ungated') return second;
    return { ...second, later: await measuredLoad(page, url, rate) };
  } finally {
    await context.close();
  }
}

/** One load of a returning visitor's page: when the gated (or ungated) script ran, and what the page saw. */
async function measuredLoad(page, url, rate) {
  await page.goto(`${url}?nodetect`, { waitUntil: 'load' });
  await page.waitForFunction('window.__ranAt !== undefined', null, { timeout: 15_000 * rate });
  await page.waitForTimeout(300);
  return await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    const banner = (/** @type {Document | ShadowRoot} */ root) =>
      [...root.querySelectorAll('*')].some(
        (el) =>
          (el.shadowRoot && banner(el.shadowRoot)) ||
          (el.tagName === 'BUTTON' && /accept/i.test(el.textContent ?? '') && el.getClientRects().length > 0),
      );
    return {
      ranAt: w.__ranAt,
      parsedAt: w.__parsedAt,
      apiAt: w.__apiAt ?? null,
      bannerShown: banner(document),
      longTasks: w.__longTasks,
      ours: w.__ours,
      cls: w.__cls,
    };
  });
}

const summarise = (timing, cost) => ({
  samples: timing.length,
  bannerMs: median(timing.map((s) => s.bannerAt).filter((x) => x !== null)),
  fcpMs: median(timing.map((s) => s.fcp).filter((x) => x !== null)),
  scriptToBannerMs: median(
    timing.filter((s) => s.scriptEnd !== null && s.bannerAt !== null).map((s) => s.bannerAt - s.scriptEnd),
  ),
  taskMs: median(cost.map((s) => s.task)),
  scriptMs: median(cost.map((s) => s.script)),
  longTasks: cost.reduce((n, s) => n + s.longTasks.length, 0),
  maxLongTaskMs: Math.max(0, ...cost.flatMap((s) => s.longTasks)),
  widgetLongFrames: cost.reduce((n, s) => n + s.ours.length, 0),
  maxWidgetFrameMs: Math.max(0, ...cost.flatMap((s) => s.ours.map(([frame]) => frame))),
  widgetLongScripts: cost.reduce((n, s) => n + s.ours.filter(([, own]) => own >= 50).length, 0),
  maxWidgetScriptMs: Math.max(0, ...cost.flatMap((s) => s.ours.map(([, own]) => own))),
  maxCls: Math.max(0, ...cost.map((s) => s.cls)),
});

/**
 * @param {{ runs?: number, rates?: number[], log?: (s: string) => void }} [o]
 */
export async function benchBrowser(o = {}) {
  const runs = o.runs ?? 11;
  const rates = o.rates ?? [1, 4];
  const log = o.log ?? console.log;
  const demo = createDemoServer({ pages: benchPages() });
  const base = await demo.listen(0, '127.0.0.1');
  const browser = await chromium.launch({ headless: true, executablePath: ensureChromium(), args: ARGS });
  const out = { runs, conditions: {} };
  try {
    // One throw-away visit per variant: Chromium's own first-use costs (code caches, fonts) are not ours.
    const variants = ['none', 'handwritten', 'widget', 'widget-sync'];
    for (const v of variants) await firstVisit(browser, `${base}/bench/${v}.html`, 1, 'timing');
    for (const rate of rates) {
      const timing = Object.fromEntries(variants.map((v) => [v, []]));
      const cost = Object.fromEntries(variants.map((v) => [v, []]));
      const returning = {
        gated: [],
        ungated: [],
        'gated-blocked': [],
        'ungated-blocked': [],
        'gated-sync': [],
      };
      for (let i = 0; i < runs; i++) {
        for (const v of variants) {
          timing[v].push(await firstVisit(browser, `${base}/bench/${v}.html`, rate, 'timing'));
          cost[v].push(await firstVisit(browser, `${base}/bench/${v}.html`, rate, 'cost'));
        }
        // Twice as many returning visits: the figure is a few ms against a page load that varies by ±15 ms.
        for (let k = 0; k < 2; k++)
          for (const v of Object.keys(returning))
            returning[v].push(await returningVisit(browser, base, v, rate));
      }
      const c = Object.fromEntries(variants.map((v) => [v, summarise(timing[v], cost[v])]));
      c.returning = {
        gatedMs: median(returning.gated.map((s) => s.ranAt)),
        ungatedMs: median(returning.ungated.map((s) => s.ranAt)),
        gatedWaitMs: median(returning.gated.map((s) => s.ranAt - s.parsedAt)),
        ungatedWaitMs: median(returning.ungated.map((s) => s.ranAt - s.parsedAt)),
        // When the widget's first task had set window.assenso, from the same moment (its start-up follows).
        apiWaitMs: median(returning.gated.map((s) => s.apiAt - s.parsedAt)),
        // The same behind a parser-blocking script: the widget has started when the parser reaches it.
        blocked: {
          gatedWaitMs: median(returning['gated-blocked'].map((s) => s.ranAt - s.parsedAt)),
          ungatedWaitMs: median(returning['ungated-blocked'].map((s) => s.ranAt - s.parsedAt)),
        },
        // The blocking embed (no `async`): the widget has run before the parser reaches the body.
        sync: { gatedWaitMs: median(returning['gated-sync'].map((s) => s.ranAt - s.parsedAt)) },
        bannerShownOnReturn: returning.gated.filter((s) => s.bannerShown).length,
        longTasks: returning.gated.reduce((n, s) => n + s.longTasks.length, 0),
        widgetLongFrames: returning.gated.reduce((n, s) => n + s.ours.length, 0),
        widgetLongScripts: returning.gated.reduce(
          (n, s) => n + s.ours.filter(([, own]) => own >= 50).length,
          0,
        ),
        maxWidgetScriptMs: Math.max(0, ...returning.gated.flatMap((s) => s.ours.map(([, own]) => own))),
        maxCls: Math.max(0, ...returning.gated.map((s) => s.cls)),
        // The next page view, the widget's code cache in use.
        later: {
          gatedWaitMs: median(returning.gated.map((s) => s.later.ranAt - s.later.parsedAt)),
          ungatedWaitMs: median(returning.ungated.map((s) => s.later.ranAt - s.later.parsedAt)),
        },
      };
      c.returning.delayMs = c.returning.gatedMs - c.returning.ungatedMs;
      c.bannerRatio = c.widget.bannerMs / c.handwritten.bannerMs;
      c.widgetMainThreadMs = c.widget.taskMs - c.none.taskMs;
      c.handwrittenMainThreadMs = c.handwritten.taskMs - c.none.taskMs;
      out.conditions[rate] = c;
      log(
        `  CPU ${rate}×: banner ${c.widget.bannerMs.toFixed(1)} ms vs hand-written ${c.handwritten.bannerMs.toFixed(1)} ms ` +
          `(${c.bannerRatio.toFixed(2)}×), widget main thread ${c.widgetMainThreadMs.toFixed(1)} ms, ` +
          `gated script +${c.returning.delayMs.toFixed(2)} ms (waits ${c.returning.gatedWaitMs.toFixed(1)} ms once parsed, ungated ${c.returning.ungatedWaitMs.toFixed(1)} ms)`,
      );
    }
  } finally {
    await browser.close();
    await demo.close();
  }
  return out;
}
