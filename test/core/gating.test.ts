import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent, createConsentWith, resolveConfig } from '../../src/core/index.ts';
import { clearServiceData } from '../../src/core/clear.ts';
import { createGating } from '../../src/core/gating.ts';
import { cookieNames, destroyAll, siteConfig, track, uid, setCookie } from './helpers.ts';

type Log = { __order?: string[] };
const w = window as unknown as Log;
const added: Element[] = [];
afterEach(() => {
  destroyAll();
  for (const el of added.splice(0)) el.remove();
  delete w.__order;
});

const blobUrl = (code: string) => URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
/** An inert script as a page would write it. */
function gated(
  id: string,
  code: string,
  attrs: Record<string, string> = {},
  s = document.createElement('script'),
) {
  s.type = 'text/plain';
  s.setAttribute('data-assenso', id);
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  // A test page without Trusted Types enforcement: plain text is fine here.
  if (code) s.text = code;
  document.body.append(s);
  added.push(s);
  return s;
}
/** A script as React DOM makes one: through innerHTML, which marks it "already started" (it never runs). */
function innerHTMLScript() {
  const div = document.createElement('div');
  div.innerHTML = '<script></script>';
  return div.removeChild(div.firstChild!) as HTMLScriptElement;
}
/** A gated iframe as a page would write it. */
function gatedFrame(id: string, src: string, attrs: Record<string, string> = {}) {
  const f = document.createElement('iframe');
  f.setAttribute('data-assenso', id);
  f.setAttribute('data-src', src);
  for (const [k, v] of Object.entries(attrs)) f.setAttribute(k, v);
  document.body.append(f);
  added.push(f);
  return f;
}
/** A URL of the helpers' `yt` service (domains: youtube.com); nothing loads from it offline, nothing needs to. */
const YT = 'https://www.youtube.com/embed/x';
/** The helpers' site, with `ga` known by its host (ga.example) and a second video service, Vimeo (vimeo.com). */
function hostsConfig() {
  const cfg = siteConfig();
  const [, analytics, marketing] = cfg.categories;
  analytics!.services = [{ id: 'ga', name: 'Google Analytics', domains: ['ga.example'] }];
  marketing!.services = [...marketing!.services!, { id: 'vimeo', name: 'Vimeo', domains: ['vimeo.com'] }];
  return cfg;
}
const VIMEO = 'https://player.vimeo.com/video/1';
const push = (tag: string) => `(window.__order ??= []).push(${JSON.stringify(tag)});`;
const order = () => w.__order ?? [];

/** A document the parser is still writing (an iframe's, through document.write), gated from `head` on. */
function writing<T>(head: string) {
  const frame = document.createElement('iframe');
  document.body.append(frame);
  added.push(frame);
  const doc = frame.contentDocument!;
  doc.open();
  doc.write(head);
  const gating = createGating({ cfg: resolveConfig(siteConfig()), has: () => true, fill: () => {}, doc });
  gating.observe();
  return { doc, win: frame.contentWindow as Window & { ran?: T }, gating };
}

describe('script gating', () => {
  it('runs gated scripts once, in document order (external ones awaited), only after consent', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    gated('analytics', push('a'));
    // A slow-ish external script between two inline ones: the parser would wait for it, so must we.
    gated('analytics', '', { 'data-src': blobUrl(`${push('b')}`) });
    gated('analytics', push('c'));
    gated('marketing', push('m'));
    gated('ga', '', { src: blobUrl(push('d')) });
    await c.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(order()).toEqual([]);

    await c.save({ categories: { analytics: true } });
    await vi.waitFor(() => expect(order()).toEqual(['a', 'b', 'c', 'd']));
    await c.save({ categories: { analytics: true, marketing: false } });
    await c.acceptAll();
    await vi.waitFor(() => expect(order()).toEqual(['a', 'b', 'c', 'd', 'm']));
    await new Promise((r) => setTimeout(r, 50));
    expect(order()).toEqual(['a', 'b', 'c', 'd', 'm']);
    // None is left inert.
    expect(document.querySelectorAll('script[type="text/plain"][data-assenso]')).toHaveLength(0);
  });

  it('does not run a script whose consent was withdrawn while it waited behind an external one', async () => {
    const granted = new Set(['analytics', 'marketing']);
    const gating = createGating({
      cfg: resolveConfig(siteConfig()),
      has: (id) => granted.has(id),
      fill: () => {},
    });
    gated('analytics', '', { 'data-src': blobUrl(push('slow')) });
    gated('marketing', push('marketing'));
    const drained = gating.apply();
    // The external script is loading; marketing waits behind it, and is withdrawn meanwhile.
    granted.delete('marketing');
    await drained;
    expect(order()).toEqual(['slow']);
    // Granted again: it runs then, once.
    granted.add('marketing');
    await gating.apply();
    await gating.apply();
    expect(order()).toEqual(['slow', 'marketing']);
  });

  it('does not hold later scripts behind an async one', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    gated('analytics', '', { 'data-src': blobUrl(push('async')), async: '' });
    gated('analytics', push('after'));
    // At the moment consent is applied, the inline script has run and the async one has not held it back.
    const atChange = new Promise((r) => c.on('change', () => r([...order()])));
    await c.acceptAll();
    expect(await atChange).toEqual(['after']);
    await vi.waitFor(() => expect(order()).toEqual(['after', 'async']));
  });

  it('runs a returning visitor’s scripts at start', async () => {
    const cfg = siteConfig();
    await track(createConsent(cfg, { gpc: false })).acceptAll();
    destroyAll();
    gated('analytics', push('x'));
    void track(createConsent(cfg, { gpc: false })).start();
    expect(order()).toEqual(['x']); // synchronously, from the cookie mirror
  });

  it('gates scripts added after start (single-page apps), before and after consent', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    await c.start();
    gated('analytics', push('early'));
    await new Promise((r) => setTimeout(r, 20));
    expect(order()).toEqual([]);
    await c.acceptAll();
    await vi.waitFor(() => expect(order()).toEqual(['early']));
    const wrap = document.createElement('div');
    added.push(wrap);
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-assenso', 'analytics');
    s.text = push('late');
    wrap.append(s);
    document.body.append(wrap);
    await vi.waitFor(() => expect(order()).toEqual(['early', 'late']));
  });

  it('does not wait for an external script that never loads (nomodule, a data block): the next ones run', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    gated('analytics', '', { 'data-src': blobUrl(push('module')), 'data-type': 'module' });
    gated('analytics', '', { 'data-src': blobUrl(push('legacy')), nomodule: '' });
    gated('analytics', '', { 'data-src': blobUrl('{}'), 'data-type': 'application/json' });
    gated('analytics', push('inline'));
    await c.acceptAll();
    await vi.waitFor(() => expect(order()).toEqual(['module', 'inline']));
    gated('analytics', push('later'));
    await vi.waitFor(() => expect(order()).toEqual(['module', 'inline', 'later']));
  });

  it("keeps the script's own onload and onerror handlers", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    gated('analytics', '', { 'data-src': blobUrl(push('lib')), onload: push('onload') });
    gated('analytics', '', { 'data-src': `${blobUrl('')}-gone`, onerror: push('onerror 404') });
    gated('analytics', push('after'));
    await c.acceptAll();
    await vi.waitFor(() => expect(order()).toEqual(['lib', 'onload', 'onerror 404', 'after']));
  });

  it('gives gated scripts the page nonce and their data-type', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false, nonce: 'n0nce' }));
    const s = gated('analytics', push('mod'), {
      'data-type': 'module',
      id: `s${uid()}`,
      'data-x': 'kept',
      nonce: 'n0nce',
    });
    const id = s.id;
    await c.acceptAll();
    await vi.waitFor(() => expect(order()).toEqual(['mod']));
    const live = document.getElementById(id) as HTMLScriptElement;
    expect(live.type).toBe('module');
    expect(live.nonce).toBe('n0nce');
    expect(live.getAttribute('data-x')).toBe('kept');
  });

  it('under a nonce, runs only gated scripts that carry it: HTML injected into the page gets no nonce from us', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const c = track(createConsent(siteConfig(), { gpc: false, nonce: 'n0nce' }));
    // What an injection adds: the required category needs no consent, and the policy would block it on its own.
    const injected = gated('necessary', push('injected'));
    gated('necessary', push('guessed'), { nonce: 'guess' });
    gated('necessary', push('own'), { nonce: 'n0nce' });
    await c.start();
    await vi.waitFor(() => expect(order()).toEqual(['own']));
    await c.acceptAll();
    expect(order()).toEqual(['own']);
    expect(injected.type).toBe('text/plain');
    // Said once each, naming the element.
    const said = errors.mock.calls.filter(([m]) => String(m).includes("lacks the page's nonce"));
    expect(said.map(([, el]) => el)).toContain(injected);
    expect(said).toHaveLength(2);
    errors.mockRestore();
  });

  it('keeps out the script of a service the visitor refused under its granted category, as its iframe', async () => {
    const c = track(createConsent(hostsConfig(), { gpc: false }));
    // Known by its host: ga.example is the `ga` service of `analytics`. (It never loads: its onerror says when
    // the browser was asked for it.)
    const ga = gated('analytics', '', { 'data-src': 'https://ga.example/tag.js', onerror: push('ga asked') });
    gated('analytics', push('inline'));
    const f = gatedFrame('analytics', 'https://ga.example/frame');
    await c.save({ categories: { analytics: true }, services: { ga: false } });
    added.push(f.previousElementSibling!);
    await vi.waitFor(() => expect(order()).toEqual(['inline']));
    await new Promise((r) => setTimeout(r, 20));
    expect(order()).toEqual(['inline']);
    expect([ga.isConnected, ga.type]).toEqual([true, 'text/plain']);
    expect(f.hasAttribute('src')).toBe(false);
    // Allowed: it runs then, once.
    await c.save({ services: { ga: true } });
    await vi.waitFor(() => expect(order()).toEqual(['inline', 'ga asked']));
    expect(f.getAttribute('src')).toBe('https://ga.example/frame');
  });

  it('does not leave the script of a refused service to the parser either', async () => {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    added.push(frame);
    const doc = frame.contentDocument!;
    doc.open();
    doc.write('<!doctype html><body><p>page</p>');
    const gating = createGating({
      cfg: resolveConfig(hostsConfig()),
      has: (id) => id !== 'ga',
      fill: () => {},
      doc,
    });
    gating.observe();
    // Unfinished (the parser has not reached its end tag): what parsed() leaves to the parser, when allowed.
    doc.write('<script type="text/plain" data-assenso="analytics" data-src="https://ga.example/tag.js">');
    await gating.apply();
    const s = doc.querySelector('script')!;
    expect(s.type).toBe('text/plain');
    doc.write('</script><p>after</p>');
    doc.close();
    await gating.apply();
    expect([s.isConnected, s.type]).toEqual([true, 'text/plain']);
    gating.disconnect();
  });

  it("runs the page's own element: a framework keeps its node, and a copy of it runs nothing", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const all = () => document.querySelectorAll('script[data-assenso]').length;
    const before = all();
    const scripts = [
      gated('analytics', push('inline')),
      gated('analytics', '', { 'data-src': blobUrl(push('data-src')) }),
      gated('analytics', '', { src: blobUrl(push('src')) }),
      // React's cannot run: a live copy of each goes after it.
      gated('analytics', push('react inline'), {}, innerHTMLScript()),
      gated('analytics', '', { 'data-src': blobUrl(push('react external')) }, innerHTMLScript()),
      // One with an `async` attribute may be React's too: a copy, and the original stays inert.
      gated('analytics', push('async inline'), { async: '' }),
      gated('analytics', push('last')),
    ];
    await c.acceptAll();
    const ran = ['inline', 'data-src', 'src', 'react inline', 'react external', 'async inline', 'last'];
    await vi.waitFor(() => expect(order()).toEqual(ran));
    expect(scripts.map((s) => s.isConnected)).toEqual(scripts.map(() => true));
    expect(all() - before).toBe(scripts.length + 3);
    // A framework unmounting what it rendered (React: parent.removeChild(node)) must not throw.
    for (const s of scripts) s.parentNode!.removeChild(s);
    // A copy of one that ran, or of React's (a cloned section, a body restored from a cache), runs nothing.
    for (const s of scripts) added.push(document.body.appendChild(s.cloneNode(true) as Element));
    await c.acceptAll();
    await new Promise((r) => setTimeout(r, 50));
    expect(order()).toEqual(ran);
  });

  it('ignores, with one error, document.write in a gated inline script run after the page has loaded', async () => {
    const { doc, win } = await framePage();
    doc.body.innerHTML = '<p id="page">page</p>';
    const s = doc.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-assenso', 'analytics');
    s.text = 'document.write("<p>a</p>"); document.writeln("<p>b</p>"); document.write("c"); window.ran = 1;';
    doc.body.append(s);
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await createGating({ cfg: resolveConfig(siteConfig()), has: () => true, fill: () => {}, doc }).apply();
      // It ran on, and the page it would have replaced (HTML's document.open) is still there.
      expect((win as { ran?: number }).ran).toBe(1);
      expect(doc.getElementById('page')).not.toBeNull();
      const said = error.mock.calls.filter((c) => String(c[0]).includes('document.write'));
      expect(said).toHaveLength(1);
      expect(said[0]![1]).toBe(s);
      // The document's own write again, for the page.
      expect([Object.hasOwn(doc, 'write'), Object.hasOwn(doc, 'writeln')]).toEqual([false, false]);
    } finally {
      error.mockRestore();
    }
  });

  it("keeps the page's own document.write (an ad stack's shim), and one a gated script puts in", async () => {
    const { doc, win } = await framePage();
    const shim = () => {};
    (doc as unknown as { write: unknown }).write = shim;
    const gatedIn = (code: string) => {
      const s = doc.createElement('script');
      s.type = 'text/plain';
      s.setAttribute('data-assenso', 'analytics');
      s.text = code;
      doc.body.append(s);
    };
    gatedIn('window.seen = document.write;');
    gatedIn('document.writeln = window.own = function () {};');
    await createGating({ cfg: resolveConfig(siteConfig()), has: () => true, fill: () => {}, doc }).apply();
    const w = win as unknown as { seen: unknown; own: unknown };
    // Muted while the script ran, the page's own after.
    expect(w.seen).not.toBe(shim);
    expect(doc.write).toBe(shim);
    expect(doc.writeln).toBe(w.own);
  });

  it('warns once about an unknown data-assenso id and never runs it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const c = track(createConsent(siteConfig(), { gpc: false }));
    gated('nope', push('nope'));
    gated('nope', push('nope'));
    await c.acceptAll();
    await new Promise((r) => setTimeout(r, 20));
    expect(order()).toEqual([]);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('data-assenso="nope"'))).toHaveLength(1);
    warn.mockRestore();
  });
});

describe('iframe placeholders', () => {
  it('holds an iframe behind an accessible placeholder whose button allows only that service', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const f = gatedFrame('marketing', YT, { width: '320' });
    await c.start();
    expect(f.hidden).toBe(true);
    expect(f.hasAttribute('src')).toBe(false);
    const box = f.previousElementSibling as HTMLElement;
    added.push(box);
    expect(box.getAttribute('role')).toBe('region');
    expect(box.getAttribute('aria-label')).toBe('YouTube');
    expect(box.style.width).toBe('320px');
    const button = box.querySelector('button')!;
    expect(button.textContent).toBe('Allow YouTube');
    button.focus();
    button.click();
    await vi.waitFor(() => expect(f.getAttribute('src')).toBe(YT));
    // Focus goes to the frame that replaced the placeholder, not back to <body>.
    expect(document.activeElement).toBe(f);
    expect(box.isConnected).toBe(false);
    expect(f.hidden).toBe(false);
    // On a first visit it answers for that service only: no refusal of the categories is recorded, and the
    // banner still asks about them.
    expect(c.getState().decision).toMatchObject({
      method: 'service',
      services: { yt: true },
      categories: { necessary: true },
    });
    expect(Object.keys(c.getState().decision!.categories)).toEqual(['necessary']);
    expect(c.getState().prompt).toMatchObject({
      reason: 'first-visit',
      categories: ['analytics', 'marketing'],
    });
    expect(c.has('marketing')).toBe(false);
    // Withdrawn: unloaded and held again.
    await c.rejectAll();
    expect(f.hasAttribute('src')).toBe(false);
    expect(f.hidden).toBe(true);
    added.push(f.previousElementSibling!);
    expect(f.previousElementSibling?.className).toBe('assenso-placeholder');
  });

  it('uses the translated texts it is given, as text (never HTML)', async () => {
    const c = track(
      createConsent(siteConfig(), {
        gpc: false,
        text: (k, v) =>
          k === 'placeholder.allow' ? `Consenti ${v.service}` : `<b>${v.service}</b> è bloccato`,
      }),
    );
    const f = gatedFrame('yt', 'about:blank');
    await c.start();
    const box = f.previousElementSibling!;
    added.push(box);
    expect(box.querySelector('button')!.textContent).toBe('Consenti YouTube');
    expect(box.querySelector('p')!.textContent).toBe('<b>YouTube</b> è bloccato');
    expect(box.querySelector('b')).toBeNull();
  });

  it('fills a placeholder whose chunk could not load at the next scan (the iframe stays held meanwhile)', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    let online = false;
    const load = () =>
      online ? import('../../src/core/delivery.ts') : Promise.reject(new TypeError('Failed to fetch chunk'));
    const c = track(createConsentWith(load, siteConfig(), { gpc: false }));
    const f = gatedFrame('yt', 'about:blank#retry');
    await c.start();
    const box = f.previousElementSibling as HTMLElement;
    added.push(box);
    expect(box.className).toBe('assenso-placeholder');
    expect(f.hidden).toBe(true);
    expect(box.querySelector('button')).toBeNull();
    // Still offline at the next scan: tried again, and failed again.
    const offline = document.createElement('p');
    document.body.append(offline);
    added.push(offline);
    await new Promise((r) => setTimeout(r, 20));
    online = true;
    // Any later scan (here: content added to the page) tries again, and fills it once.
    const later = document.createElement('div');
    document.body.append(later);
    added.push(later);
    await vi.waitFor(() => expect(box.querySelector('button')?.textContent).toBe('Allow YouTube'));
    await c.rejectAll();
    expect(box.querySelectorAll('button')).toHaveLength(1);
    // Said once, not at every scan that tried again.
    expect(errors.mock.calls.filter((a) => String(a[0]).includes('placeholder'))).toHaveLength(1);
    errors.mockRestore();
  });

  it('leaves a gated inline script the parser has not finished to the parser: run at its end tag, whole, in order', async () => {
    const { doc, win, gating } = writing<string[]>('<!doctype html><body><p>page</p>');
    // The parser has inserted the element and not yet its text (as when the network splits the page there).
    doc.write('<script type="text/plain" data-assenso="analytics">(window.ran ??= []).push("wh');
    expect(doc.readyState).toBe('loading');
    await gating.apply();
    expect(win.ran).toBeUndefined();
    // The rest arrives: the parser runs it at its end tag, once, with its whole text, before what follows.
    doc.write('ole");</script><script>window.ran.push("next");</script>');
    expect(win.ran).toEqual(['whole', 'next']);
    // The last script of a page, with nothing after it: the parser is done with it (it became async at its end
    // tag), so it runs at once, not at DOMContentLoaded.
    doc.write('<script type="text/plain" data-assenso="analytics">window.ran.push("last");</script>');
    await vi.waitFor(() => expect(win.ran).toEqual(['whole', 'next', 'last']));
    expect(doc.readyState).toBe('loading');
    await gating.apply();
    doc.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(win.ran).toEqual(['whole', 'next', 'last']);
    gating.disconnect();
  });

  it('leaves an unfinished external gated script to the parser too: it holds the parser until it has run, as ungated', async () => {
    const { doc, win, gating } = writing<string[]>('<!doctype html><body>');
    const src = `data:text/javascript,${encodeURIComponent('(window.ran ??= []).push("external")')}`;
    doc.write(`<script type="text/plain" data-assenso="analytics" data-src="${src}">`);
    await gating.apply();
    doc.write('</script><script>(window.ran ??= []).push("next")</script>');
    doc.close();
    await vi.waitFor(() => expect(win.ran).toEqual(['external', 'next']));
    gating.disconnect();
  });

  it('leaves no unfinished gated script to the parser while an external one of ours loads before it', async () => {
    const slow = `data:text/javascript,${encodeURIComponent('(window.ran ??= []).push("external")')}`;
    const { doc, win, gating } = writing<string[]>(
      `<!doctype html><body><script type="text/plain" data-assenso="analytics" data-src="${slow}"></script><p>x</p>`,
    );
    void gating.apply();
    // Not finished by the parser, but an external script of ours is loading before it: not left to the parser.
    doc.write('<script type="text/plain" data-assenso="analytics">(window.ran ??= []).push("inline")');
    await Promise.resolve(); // the observer sees it unfinished
    expect(win.ran).toBeUndefined();
    doc.write('</script><p>y</p>');
    await vi.waitFor(() => expect(win.ran).toEqual(['external', 'inline']));
    doc.close();
    gating.disconnect();
  });

  it('runs nothing at DOMContentLoaded once disconnected', async () => {
    const { doc, win, gating } = writing<boolean>('<!doctype html><body><p>page</p>');
    doc.write('<script type="text/plain" data-assenso="analytics">window.ran = true;');
    // Left to the parser (made live in place), then disconnected before its end tag: inert again.
    await gating.apply();
    gating.disconnect();
    doc.write('</script>');
    doc.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(doc.readyState).not.toBe('loading');
    expect(win.ran).toBeUndefined();
  });

  it("matches an iframe to a service by its URL's host, not by text anywhere in it", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const tracker = gatedFrame('marketing', '/tracker.html?ref=youtube.com');
    const video = gatedFrame('marketing', YT);
    await c.start();
    added.push(tracker.previousElementSibling!, video.previousElementSibling!);
    expect(tracker.previousElementSibling?.getAttribute('aria-label')).toBe('Marketing');
    await c.allowService('yt');
    expect(video.getAttribute('src')).toBe(YT);
    expect(tracker.hasAttribute('src')).toBe(false);
    expect(tracker.hidden).toBe(true);
  });

  it("holds a category's iframe whose service the visitor refused", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const f = gatedFrame('marketing', YT);
    await c.save({ categories: { marketing: true }, services: { yt: false } });
    added.push(f.previousElementSibling!);
    expect(f.hasAttribute('src')).toBe(false);
    expect(f.hidden).toBe(true);
    await c.save({ services: { yt: true } });
    expect(f.getAttribute('src')).toBe(YT);
  });

  it("leaves the page's later src and its own hidden alone", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const f = gatedFrame('yt', `${YT}?v=1`);
    const hidden = gatedFrame('yt', `${YT}?v=h`, { hidden: '' });
    await c.start();
    added.push(f.previousElementSibling!, hidden.previousElementSibling!);
    await c.acceptAll();
    expect(f.hidden).toBe(false);
    expect(hidden.hidden).toBe(true);
    expect(hidden.getAttribute('src')).toBe(`${YT}?v=h`);
    // A gallery switching videos, then anything else added to the page (a scan): the page's src stays.
    f.src = `${YT}?v=2`;
    const more = document.createElement('p');
    document.body.append(more);
    added.push(more);
    await new Promise((r) => setTimeout(r, 20));
    expect(f.getAttribute('src')).toBe(`${YT}?v=2`);
    // Withdrawn and granted again: the configured one.
    await c.rejectAll();
    expect(f.hasAttribute('src')).toBe(false);
    await c.acceptAll();
    expect(f.getAttribute('src')).toBe(`${YT}?v=1`);
  });

  it('takes the placeholder along when its iframe is removed or moved', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const a = gatedFrame('yt', YT);
    const b = gatedFrame('yt', YT);
    await c.start();
    const boxA = a.previousElementSibling!;
    const boxB = b.previousElementSibling!;
    added.push(boxA, boxB);
    a.remove();
    await vi.waitFor(() => expect(boxA.isConnected).toBe(false));
    const elsewhere = document.createElement('section');
    document.body.prepend(elsewhere);
    added.push(elsewhere);
    elsewhere.append(b);
    await vi.waitFor(() => expect(b.previousElementSibling).toBe(boxB));
    expect(document.querySelectorAll('.assenso-placeholder')).toHaveLength(1);
  });

  it('keeps a held iframe out of sight under page CSS that sets its display, and gives back its own', async () => {
    const css = document.createElement('style');
    css.textContent = '.embed { display: block; width: 300px; height: 150px }';
    document.head.append(css);
    added.push(css);
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const f = gatedFrame('yt', YT, { class: 'embed' });
    const own = gatedFrame('yt', `${YT}?own`, { class: 'embed', style: 'display: inline-block' });
    await c.start();
    added.push(f.previousElementSibling!, own.previousElementSibling!);
    expect([f, own].map((x) => getComputedStyle(x).display)).toEqual(['none', 'none']);
    await c.acceptAll();
    expect([f, own].map((x) => getComputedStyle(x).display)).toEqual(['block', 'inline-block']);
    expect([f.style.display, own.style.display, own.style.getPropertyPriority('display')]).toEqual([
      '',
      'inline-block',
      '',
    ]);
  });

  it('gates iframes added later', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    await c.start();
    const f = gatedFrame('yt', 'about:blank#late');
    await vi.waitFor(() => expect(f.previousElementSibling?.className).toBe('assenso-placeholder'));
    added.push(f.previousElementSibling!);
    await c.acceptAll();
    expect(f.getAttribute('src')).toBe('about:blank#late');
  });

  it('lets the placeholder grow with its content: the height is a minimum (WCAG 1.4.12, 1.4.10)', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    // Narrow and low: its sentence and button need more than 40 px, as larger text spacing or 320 px make them.
    const f = gatedFrame('yt', YT, { width: '200', height: '40' });
    await c.start();
    await vi.waitFor(() => expect(f.previousElementSibling?.querySelector('button')).not.toBeNull());
    const box = f.previousElementSibling as HTMLElement;
    added.push(box);
    const bottom = box.querySelector('button')!.getBoundingClientRect().bottom;
    expect(bottom).toBeLessThanOrEqual(box.getBoundingClientRect().bottom);
    expect([box.style.width, box.style.minHeight, box.style.height]).toEqual(['200px', '40px', '']);
  });

  it("gives the placeholder the size the page's CSS gives its iframe; its attributes first; none in a hidden container", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const css = document.createElement('style');
    css.textContent = '.sized { width: 320px; aspect-ratio: 16 / 9; border: 0 }';
    const closed = document.createElement('div');
    closed.hidden = true;
    document.body.append(css, closed);
    added.push(css, closed);
    const byCss = gatedFrame('yt', `${YT}?css`, { class: 'sized' });
    const byAttrs = gatedFrame('yt', `${YT}?attrs`, { class: 'sized', width: '100%', height: '152' });
    // Hidden by an inline `display` too, as gating may hide it: shown for the measure only, then hidden as it was.
    const inline = gatedFrame('yt', `${YT}?inline`, { class: 'sized', style: 'display: none !important' });
    const inClosed = gatedFrame('yt', `${YT}?closed`, { class: 'sized' });
    closed.append(inClosed);
    await c.start();
    await vi.waitFor(() => expect(inClosed.previousElementSibling?.querySelector('button')).not.toBeNull());
    const [a, b, i, h] = [byCss, byAttrs, inline, inClosed].map(
      (f) => f.previousElementSibling as HTMLElement,
    );
    added.push(a!, b!, i!);
    const size = (el: Element) => [el.getBoundingClientRect().width, el.getBoundingClientRect().height];
    expect(size(a!)).toEqual([320, 180]);
    // Its shape, which follows its width when the window narrows (a fluid frame's would).
    expect([a!.style.width, a!.style.aspectRatio, a!.style.maxWidth]).toEqual(['320px', '320 / 180', '100%']);
    // A `width="100%"` stays fluid.
    expect([b!.style.width, b!.style.minHeight]).toEqual(['100%', '152px']);
    expect(size(i!)).toEqual([320, 180]);
    expect([
      inline.hidden,
      inline.style.getPropertyValue('display'),
      inline.style.getPropertyPriority('display'),
    ]).toEqual([true, 'none', 'important']);
    // Measured 0 x 0: the box takes its content's size, as before.
    expect([h!.style.width, h!.style.minHeight, h!.style.aspectRatio]).toEqual(['', '', '']);
    // Hidden again as gating hid it (an inline display too: page CSS may set an iframe's).
    expect([byCss.hidden, byCss.style.display, byCss.style.getPropertyPriority('display')]).toEqual([
      true,
      'none',
      'important',
    ]);
    // Allowed: the frame takes the place its placeholder had, no jump.
    await c.acceptAll();
    expect(size(byCss)).toEqual([320, 180]);
  });

  it("a fluid frame's placeholder (as wide as its container) follows the container both ways", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const css = document.createElement('style');
    css.textContent = '.fluid { width: 100%; aspect-ratio: 16 / 9; border: 0; display: block }';
    const wrap = document.createElement('div');
    wrap.style.width = '300px';
    wrap.style.padding = '0 10px';
    document.body.append(css, wrap);
    added.push(css, wrap);
    const fluid = gatedFrame('yt', `${YT}?fluid`, { class: 'fluid' });
    // Narrower than its container: its own width, in pixels, as before.
    const fixed = gatedFrame('yt', `${YT}?fixed`, { class: 'fluid', style: 'width: 200px' });
    wrap.append(fluid, fixed);
    await c.start();
    await vi.waitFor(() => expect(fixed.previousElementSibling?.querySelector('button')).not.toBeNull());
    const [box, small] = [fluid, fixed].map((f) => f.previousElementSibling as HTMLElement);
    added.push(box!, small!);
    expect(box!.getBoundingClientRect().width).toBe(300);
    expect(small!.style.width).toBe('200px');
    // The window (here its container) grows: the placeholder with it, in the frame's shape.
    wrap.style.width = '480px';
    expect([box!.getBoundingClientRect().width, box!.getBoundingClientRect().height]).toEqual([480, 270]);
    await c.acceptAll();
    expect(fluid.getBoundingClientRect().width).toBe(480);
  });
});

describe('iframes the page copies or changes', () => {
  it('gives a copy of a held iframe (a cloned slide) a placeholder of its own, whose button works', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const slide = document.createElement('div');
    document.body.append(slide);
    added.push(slide);
    const f = gatedFrame('yt', YT);
    const own = gatedFrame('yt', `${YT}?own`, { hidden: '' }); // hidden by the page itself
    slide.append(f, own);
    await c.start();
    await vi.waitFor(() => expect(slide.querySelectorAll('button')).toHaveLength(2));
    const copy = slide.cloneNode(true) as HTMLElement;
    const dead = copy.querySelector('.assenso-placeholder')!;
    document.body.append(copy);
    added.push(copy);
    const [cf, cown] = copy.querySelectorAll('iframe');
    // The copied placeholder (its button has no listener: listeners are not cloned) gives way to a live one.
    await vi.waitFor(() => {
      expect(dead.isConnected).toBe(false);
      expect(cf!.previousElementSibling?.querySelector('button')).not.toBeNull();
    });
    expect(copy.querySelectorAll('.assenso-placeholder')).toHaveLength(2);
    cf!.previousElementSibling!.querySelector('button')!.click();
    await vi.waitFor(() => expect(cf!.getAttribute('src')).toBe(YT));
    expect(cf!.hidden).toBe(false);
    expect(f.hidden).toBe(false);
    // The page's own hidden stays, on the copy too.
    expect([own.hidden, cown!.hidden]).toEqual([true, true]);
    expect(document.querySelectorAll('.assenso-placeholder')).toHaveLength(0);
  });

  it('shows a held iframe restored from a snapshot after consent (Turbo’s back button)', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const page = document.createElement('div');
    document.body.append(page);
    added.push(page);
    page.append(gatedFrame('yt', YT));
    await c.start();
    await vi.waitFor(() => expect(page.querySelector('button')).not.toBeNull());
    // Turbo caches a copy of the page and swaps it out; consent is given on the next page; back, it restores it.
    const snapshot = page.cloneNode(true) as HTMLElement;
    page.remove();
    await c.acceptAll();
    document.body.append(snapshot);
    added.push(snapshot);
    const f = snapshot.querySelector('iframe')!;
    await vi.waitFor(() => expect(f.getAttribute('src')).toBe(YT));
    expect(f.hidden).toBe(false);
    expect(snapshot.querySelector('.assenso-placeholder')).toBeNull();
  });

  it('follows a data-src changed in place: the placeholder offers the new service, a loaded iframe obeys it', async () => {
    const c = track(createConsent(hostsConfig(), { gpc: false }));
    const f = gatedFrame('marketing', YT);
    await c.start();
    await vi.waitFor(() => expect(f.previousElementSibling?.getAttribute('aria-label')).toBe('YouTube'));
    added.push(f.previousElementSibling!);
    // A framework patches the attribute of the same element (Vue, React): another provider's video.
    f.setAttribute('data-src', VIMEO);
    await vi.waitFor(() => expect(f.previousElementSibling?.getAttribute('aria-label')).toBe('Vimeo'));
    added.push(f.previousElementSibling!);
    expect(document.querySelectorAll('.assenso-placeholder')).toHaveLength(1);
    f.previousElementSibling!.querySelector('button')!.click();
    await vi.waitFor(() => expect(f.getAttribute('src')).toBe(VIMEO));
    expect([c.has('vimeo'), c.has('yt')]).toEqual([true, false]);
    // Loaded, then switched back to the service not allowed: unloaded and held.
    f.setAttribute('data-src', YT);
    await vi.waitFor(() => expect(f.hidden).toBe(true));
    expect(f.hasAttribute('src')).toBe(false);
    added.push(f.previousElementSibling!);
    expect(f.previousElementSibling?.getAttribute('aria-label')).toBe('YouTube');
    // To an allowed one: loaded with the new URL.
    f.setAttribute('data-src', `${VIMEO}?2`);
    await vi.waitFor(() => expect(f.getAttribute('src')).toBe(`${VIMEO}?2`));
    expect(f.hidden).toBe(false);
    expect(document.querySelectorAll('.assenso-placeholder')).toHaveLength(0);
    // Its data-assenso too: named the refused service, it is held.
    f.setAttribute('data-assenso', 'yt');
    await vi.waitFor(() => expect(f.hidden).toBe(true));
    added.push(f.previousElementSibling!);
  });

  it("names each placeholder after its iframe's title too, set as text", async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const section = document.createElement('section');
    section.lang = 'it';
    document.body.append(section);
    added.push(section);
    const a = gatedFrame('yt', `${YT}?a`, { title: 'Video A' });
    const b = gatedFrame('yt', `${YT}?b`, { title: '<img src=x onerror=alert(1)>B' });
    section.append(a, b);
    await c.start();
    await vi.waitFor(() => expect(b.previousElementSibling?.querySelector('button')).not.toBeNull());
    const [boxA, boxB] = [a.previousElementSibling!, b.previousElementSibling!];
    expect(boxA.getAttribute('aria-label')).toBe('YouTube: Video A');
    expect(boxB.getAttribute('aria-label')).toBe('YouTube: <img src=x onerror=alert(1)>B');
    const title = boxA.querySelector('strong')!;
    expect([title.textContent, title.lang]).toEqual(['Video A', 'it']);
    expect(boxB.querySelector('strong')!.textContent).toBe('<img src=x onerror=alert(1)>B');
    expect(boxB.querySelector('img')).toBeNull();
  });

  it('drops a srcdoc when the iframe loads (it would win over src)', async () => {
    const c = track(createConsent(siteConfig(), { gpc: false }));
    const f = gatedFrame('yt', YT, { srcdoc: '<p>preview</p>' });
    await c.start();
    added.push(f.previousElementSibling!);
    expect(f.getAttribute('srcdoc')).toBe('<p>preview</p>');
    await c.acceptAll();
    expect(f.getAttribute('src')).toBe(YT);
    expect(f.hasAttribute('srcdoc')).toBe(false);
  });
});

/** A page of its own (a frame), loaded; `head` goes before its body. */
async function framePage(head = '') {
  const frame = document.createElement('iframe');
  frame.srcdoc = `<!doctype html>${head}<body></body>`;
  document.body.append(frame);
  added.push(frame);
  await new Promise((r) => frame.addEventListener('load', r, { once: true }));
  const win = frame.contentWindow as Window &
    Log & { trustedTypes: { createPolicy(n: string, r: object): unknown } };
  return { doc: frame.contentDocument!, win };
}
/** A page (a frame) whose CSP enforces Trusted Types and allows one policy, `assenso`. */
const trustedTypesPage = () =>
  framePage(
    `<meta http-equiv="Content-Security-Policy" content="require-trusted-types-for 'script'; trusted-types assenso">`,
  );

describe('Trusted Types', () => {
  it('assigns script URLs and inline code through the named policy under require-trusted-types-for', async () => {
    const { doc, win } = await trustedTypesPage();
    const violations: string[] = [];
    doc.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    // The page cannot assign plain strings to script sinks any more:
    expect(() => {
      doc.createElement('script').text = '1';
    }).toThrow(/TrustedScript/);
    for (const [i, code] of ['a', 'b'].entries()) {
      const s = doc.createElement('script');
      s.type = 'text/plain';
      s.setAttribute('data-assenso', 'analytics');
      // Inert markup as the page author wrote it (setAttribute on data-src is no sink).
      if (i === 0) s.setAttribute('data-src', blobUrl(push(code)));
      else s.append(doc.createTextNode(push(code)));
      doc.body.append(s);
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(violations.length).toBeGreaterThan(0); // the listener works (our own refused assignment above)
    violations.length = 0;
    const cfg = resolveConfig(siteConfig());
    const g = createGating({ cfg, has: () => true, fill: () => {}, doc });
    await g.apply();
    expect(win.__order).toEqual(['a', 'b']);
    await new Promise((r) => setTimeout(r, 20));
    expect(violations).toEqual([]);
  });
});

describe('Trusted Types policy refused', () => {
  it('says what to fix when another script took the name "assenso" first', async () => {
    const { doc, win } = await trustedTypesPage();
    win.trustedTypes.createPolicy('assenso', {});
    const s = doc.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-assenso', 'analytics');
    s.append(doc.createTextNode('1'));
    doc.body.append(s);
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await createGating({ cfg: resolveConfig(siteConfig()), has: () => true, fill: () => {}, doc }).apply();
      expect(error.mock.calls.map((c) => String(c[0]))).toContain(
        `[assenso] Trusted Types policy "assenso" refused: gated scripts cannot run. List "assenso" in the CSP's trusted-types; no other script may create it:`,
      );
    } finally {
      error.mockRestore();
    }
  });
});

describe('revocation clears cookies and storage', () => {
  const paths = () => {
    const segs = location.pathname.split('/').filter(Boolean);
    const out = ['/'];
    for (let i = 1; i <= segs.length; i++)
      out.push(`/${segs.slice(0, i).join('/')}`, `/${segs.slice(0, i).join('/')}/`);
    return out.filter((p) => location.pathname.startsWith(p));
  };

  it('deletes declared cookies on every path and domain variant, and declared storage keys', async () => {
    const id = uid();
    const names: string[] = [];
    for (const [i, p] of paths().entries()) {
      names.push(`_ga_${id}${i}`);
      setCookie(`_ga_${id}${i}=1; path=${p}`);
    }
    setCookie(`_ga_${id}d=1; path=/; domain=${location.hostname}`);
    setCookie(`_gax${id}=1; path=/`); // a prefix match too
    setCookie(`keep_${id}=1; path=/`);
    localStorage.setItem(`ga_${id}`, '1');
    sessionStorage.setItem(`ga_${id}`, '1');
    localStorage.setItem(`keep_${id}`, '1');
    expect(cookieNames().filter((n) => n!.includes(id))).toHaveLength(names.length + 3);

    const c = track(createConsent(siteConfig(), { gpc: false }));
    const revoked = vi.fn();
    c.on('revoke', revoked);
    await c.acceptAll();
    expect(cookieNames().filter((n) => n!.includes(id))).toHaveLength(names.length + 3);
    await c.rejectAll();
    expect(revoked).toHaveBeenCalledWith({ categories: ['analytics', 'marketing'], services: ['ga', 'yt'] });
    expect(cookieNames().filter((n) => n!.includes(id))).toEqual([`keep_${id}`]);
    expect(localStorage.getItem(`ga_${id}`)).toBeNull();
    expect(sessionStorage.getItem(`ga_${id}`)).toBeNull();
    expect(localStorage.getItem(`keep_${id}`)).toBe('1');
    setCookie(`keep_${id}=; max-age=0; path=/`);
    localStorage.removeItem(`keep_${id}`);
  });

  it('rejecting on the banner of a new revision clears what the decision before it allowed', async () => {
    const id = uid();
    setCookie(`_ga_${id}=1; path=/`);
    const cfg = siteConfig({ revision: '1' });
    await track(createConsent(cfg, { gpc: false })).acceptAll();
    destroyAll();
    const next = track(createConsent({ ...cfg, revision: '2' }, { gpc: false }));
    void next.start();
    expect(next.getState().prompt?.reason).toBe('revision');
    const revoked = vi.fn();
    next.on('revoke', revoked);
    expect(cookieNames()).toContain(`_ga_${id}`);
    await next.rejectAll();
    expect(revoked).toHaveBeenCalledWith({ categories: ['analytics', 'marketing'], services: ['ga', 'yt'] });
    await vi.waitFor(() => expect(cookieNames()).not.toContain(`_ga_${id}`));
  });

  it('clears exact names and a declared path and domain', () => {
    const id = uid();
    setCookie(`exact${id}=1; path=/`);
    const cfg = resolveConfig({
      siteId: 'x',
      categories: [
        {
          id: 'a',
          title: 'A',
          description: 'A',
          services: [
            { id: 's', name: 'S', cookies: [{ name: `exact${id}`, domain: location.hostname, path: '/' }] },
          ],
        },
      ],
    });
    clearServiceData(cfg.categories[0]!.services[0]!);
    expect(cookieNames()).not.toContain(`exact${id}`);
  });
});
