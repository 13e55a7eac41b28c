import { readFileSync } from 'node:fs';

// The pages the browser benchmark loads. Every variant carries the same content and the same head; they differ
// only in what the benchmark compares:
//   none         no consent banner at all (the page's own cost)
//   handwritten  a hand-written ~1 kB inline banner: the physical limit a consent banner can reach
//   widget       the Assenso snippet as documented (inline JSON config + async script tag)
//   gated        widget + a `type="text/plain"` analytics script (the returning visitor's gated script)
//   ungated      the same analytics script, plain, no widget
//   *-sync       widget / gated with the blocking embed: the script tag without `async`
// A detector (same in every variant, so its cost cancels out) records when a visible "Accept" button is on
// screen, in the document or in an open shadow root, at the animation frame that paints it. `?nodetect` turns
// the detector off for the main-thread measurements (its polling would otherwise be counted).

const DETECTOR = `<script>
(() => {
  if (location.search.includes('nodetect')) return;
  const t0 = performance.now();
  const visible = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot && visible(el.shadowRoot)) return true;
      if (el.tagName === 'BUTTON' && /accept/i.test(el.textContent)) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight) return true;
      }
    }
    return false;
  };
  const tick = (now) => {
    if (visible(document)) { window.__bannerAt = performance.now(); return; }
    if (now - t0 < 60000) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
</script>`;

const CONTENT = `<header><h1>Bottega Aurora</h1><nav><a href="#">Shop</a> · <a href="#">Chi siamo</a> · <a href="#">Privacy</a></nav></header>
<main>
<p>Handmade ceramics from Deruta, fired in small batches and shipped across Europe. Every piece is painted by hand,
so no two are alike: the glaze pools and thins where the brush decides.</p>
<ul>${['Piatto ornamentale', 'Tazza con piattino', 'Vaso a fiori', 'Brocca', 'Ciotola grande', 'Set da caffè']
  .map(
    (n, i) =>
      `<li><h2>${n}</h2><p>€ ${(24 + i * 11).toFixed(2)} — dipinto a mano, lavabile in lavastoviglie.</p><button type="button">Add to cart</button></li>`,
  )
  .join('\n')}</ul>
</main>
<footer><p>© Bottega Aurora · <a href="#" data-assenso-open>Cookie settings</a></p></footer>`;

const STYLE = `<style>body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem}
ul{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem;padding:0;list-style:none}
li{border:1px solid #ddd;border-radius:.5rem;padding:1rem}</style>`;

/** The widget configuration of the benchmark site: three categories, four services, cookies to clear. */
export const BENCH_CONFIG = {
  siteId: 'bench',
  revision: '2026-01',
  language: 'en',
  layout: 'bar',
  privacyPolicyUrl: '/privacy.html',
  categories: [
    { id: 'necessary', required: true, title: 'Necessary', description: 'Needed for the shop to work.' },
    {
      id: 'analytics',
      title: 'Analytics',
      description: 'Anonymous statistics that help us improve the shop.',
      services: [
        {
          id: 'matomo',
          name: 'Matomo',
          provider: 'InnoCraft',
          cookies: [{ name: '_pk_id*', duration: '13 months' }],
        },
      ],
    },
    {
      id: 'marketing',
      title: 'Marketing',
      description: 'Personalised advertising and embedded videos.',
      services: [
        { id: 'youtube', name: 'YouTube', provider: 'Google', cookies: [{ name: 'VISITOR_INFO1_LIVE' }] },
        { id: 'meta-pixel', name: 'Meta Pixel', provider: 'Meta', cookies: [{ name: '_fbp' }] },
      ],
    },
  ],
};

// As docs/embedding.md documents it: the versioned file, which every server caches as immutable.
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const SNIPPET = `<script type="application/json" data-assenso-config>${JSON.stringify(BENCH_CONFIG)}</script>
<script src="/${VERSION}/assenso.js" async></script>`;
// The blocking embed (docs/embedding.md): the same tag without `async`, which the parser waits for.
const SNIPPET_BLOCKING = SNIPPET.replace(' async></script>', '></script>');

const ANALYTICS = 'window.__ranAt = performance.now();';
// Right before the analytics script, on both pages: when the parser reached it. The script's wait after that
// moment is the delay the widget adds (its own script's start and start-up included when they come later),
// without the page-load noise around it (±15 ms per visit, against a 2 ms target).
const PARSED = '<script>window.__parsedAt = performance.now();</script>';
const GATED = `${PARSED}<script type="text/plain" data-assenso="analytics">${ANALYTICS}</script>`;
// A parser-blocking script in the body (a synchronous tag, a library), answered in BLOCK_MS (the demo server
// delays it): the widget has started by the time the parser reaches the gated script after it.
export const BLOCK_MS = 300;
const BLOCKING = '<script src="/bench/block.js"></script><p>More products below.</p>\n';
// On the gated pages, before the snippet: when the widget's first task set window.assenso (start-up, the
// cookie read and the gating follow in the next task). Context for the report: how much of the wait passes
// before the widget has run at all.
const API_AT = `<script>Object.defineProperty(window, 'assenso', { configurable: true, get() {}, set(v) {
  window.__apiAt = performance.now();
  Object.defineProperty(window, 'assenso', { value: v, writable: true, configurable: true, enumerable: true });
} });</script>`;

// The physical-limit reference: ~1 kB of inline CSS + JS, three equal buttons and a close button, a cookie.
const HANDWRITTEN = `<style>#hb{position:fixed;inset:auto 0 0 0;background:#fff;border-top:1px solid #888;padding:1rem;display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}#hb p{flex:1 1 20rem;margin:0}#hb button{font:inherit;padding:.5rem 1rem}</style>
<script>
if (!/(^|; )hb=/.test(document.cookie)) {
  const b = document.createElement('div');
  b.id = 'hb';
  b.setAttribute('role', 'dialog');
  b.setAttribute('aria-label', 'Cookies');
  const p = document.createElement('p');
  p.textContent = 'We use cookies for statistics and marketing with your consent.';
  b.append(p);
  for (const [label, v] of [['Accept all', 'all'], ['Reject all', 'none'], ['Customise', 'custom'], ['×', 'none']]) {
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.textContent = label;
    btn.onclick = () => { document.cookie = 'hb=' + v + ';path=/;max-age=15552000;samesite=lax'; b.remove(); };
    b.append(btn);
  }
  document.body.append(b);
}
</script>`;

function page(title, head, bodyEnd = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title>${STYLE}${DETECTOR}${head}</head><body>${CONTENT}${bodyEnd}</body></html>`;
}

/** The benchmark pages by path, for the demo server's `pages` option. */
export function benchPages() {
  return {
    '/bench/none.html': page('No banner', ''),
    '/bench/handwritten.html': page('Hand-written banner', '', HANDWRITTEN),
    '/bench/widget.html': page('Assenso', SNIPPET),
    '/bench/gated.html': page('Assenso, gated script', `${API_AT}${SNIPPET}`, GATED),
    '/bench/ungated.html': page('Ungated script', '', `${PARSED}<script>${ANALYTICS}</script>`),
    '/bench/widget-sync.html': page('Assenso, blocking embed', SNIPPET_BLOCKING),
    '/bench/gated-sync.html': page('Assenso, blocking embed, gated script', SNIPPET_BLOCKING, GATED),
    '/bench/gated-blocked.html': page(
      'Assenso, gated script after a slow script',
      `${API_AT}${SNIPPET}`,
      `${BLOCKING}${GATED}`,
    ),
    '/bench/block.js': { body: 'window.__blocked = true;', type: 'text/javascript', delayMs: BLOCK_MS },
    '/bench/ungated-blocked.html': page(
      'Ungated script after a slow script',
      '',
      `${BLOCKING}${PARSED}<script>${ANALYTICS}</script>`,
    ),
  };
}

/** Bytes of the hand-written banner (CSS + JS), reported next to the widget's. */
export const HANDWRITTEN_BYTES = Buffer.byteLength(HANDWRITTEN);
