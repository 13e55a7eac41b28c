import { report } from './events.ts';
import type { ResolvedConfig, ResolvedService } from './types.ts';

type Policy = { createScriptURL(s: string): unknown; createScript(s: string): unknown };
type TT = { createPolicy(name: string, rules: Policy): Policy };

// One per window by nature: a CSP `trusted-types assenso` without 'allow-duplicates' refuses a second
// createPolicy('assenso'), so every controller of a window shares the first (null: refused by the CSP).
const policies = new WeakMap<Window, Policy | null>();
const ttPolicy = (win: Window) => {
  const tt = (win as Window & { trustedTypes?: TT }).trustedTypes;
  if (tt && !policies.has(win)) {
    let p: Policy | null = null;
    try {
      // Only URLs and code the page author wrote in its own markup pass through here.
      p = tt.createPolicy('assenso', { createScriptURL: (s) => s, createScript: (s) => s });
    } catch (e) {
      // The browser's error says why (not in the CSP's `trusted-types`, or taken by another script); this, the fix.
      report(
        'Trusted Types policy "assenso" refused: gated scripts cannot run. List "assenso" in the CSP\'s trusted-types; no other script may create it',
        e,
      );
    }
    policies.set(win, p);
  }
  return policies.get(win) ?? null;
};

/** On an inert script a live copy stands in for: done with, and so is any copy the page makes of it. */
const RAN = 'data-assenso-ran';
const SCRIPTS = `script[type="text/plain"][data-assenso]:not([${RAN}])`;
const FRAMES = 'iframe[data-assenso]';
/**
 * On a frame this module hid, its own inline display: in the DOM, so that a copy (a cloned slide, a body
 * restored by Turbo) knows it.
 */
const HELD = 'data-assenso-held';

export interface GatingOptions {
  cfg: ResolvedConfig;
  has(id: string): boolean;
  /** Fills the placeholder of a held iframe (core/placeholder.ts, fetched with the delivery chunk). */
  fill(box: HTMLElement, frame: HTMLIFrameElement, id: string, svc: ResolvedService | undefined): void;
  nonce?: string;
  doc?: Document;
}

/**
 * Runs `<script type="text/plain" data-assenso="id">` once consent for `id` (a category or service id) is
 * granted, in document order, and holds `<iframe data-assenso="id" data-src>` behind a placeholder.
 */
export function createGating(o: GatingOptions) {
  const doc = o.doc ?? document;
  const win = doc.defaultView!;
  const nonce =
    o.nonce ??
    ((doc.currentScript as HTMLScriptElement | null)?.nonce ||
      doc.querySelector<HTMLScriptElement>('script[nonce]')?.nonce ||
      '');
  const queued = new WeakSet<Element>();
  /** Held iframes and their placeholders (a Map: a frame removed while held takes its placeholder along). */
  const holders = new Map<HTMLIFrameElement, HTMLElement>();
  /** Frames this module loaded (the page may change their `src` afterwards). */
  const loaded = new WeakSet<Element>();
  const warned = new Set<string>();
  const ids = new Set(o.cfg.categories.flatMap((c) => [c.id, ...c.services.map((s) => s.id)]));
  let observer: MutationObserver | undefined;

  const todo: HTMLScriptElement[] = [];
  const waiters: (() => void)[] = [];
  let busy = false;

  /**
   * Makes the inert script live, in place: a framework keeps the node it rendered, and removes that very node
   * later. Returns a promise only for an external one (its load). One the parser has not finished (`parsing`)
   * the parser runs at its end tag, with its whole text, exactly when it would have run ungated.
   */
  const run = (old: HTMLScriptElement, parsing?: boolean): Promise<unknown> | undefined => {
    if (!old.isConnected) return;
    // Unless innerHTML made it (React makes every <script> so): HTML marks those "already started", never to
    // run; a live copy goes after it. Connected, they alone read async false without the attribute (see
    // parsed()); one that has it is copied too.
    const s = parsing || (old.async && !old.hasAttribute('async')) ? old : doc.createElement('script');
    if (s !== old)
      for (const a of old.attributes)
        if (!/^(type|src|data-src|data-type|nonce)$/.test(a.name)) s.setAttribute(a.name, a.value);
    // (An empty type is JavaScript.)
    const type = old.getAttribute('data-type') ?? '';
    const src = old.getAttribute('data-src') ?? old.getAttribute('src');
    const p = ttPolicy(win);
    // After the parser is done, document.write replaces the whole page (HTML's document.open): ignored while an
    // inline one runs, as browsers ignore it from an external script (and from an inline module, run later).
    const mute = !src && !parsing && doc.readyState !== 'loading';
    const d = doc as unknown as Record<string, unknown>;
    const keys = ['write', 'writeln'];
    // The page's own (a shim of its ad stack's) comes back after, unless the script put its own in.
    const own = keys.map((k) => Object.getOwnPropertyDescriptor(doc, k));
    let said = 0;
    const muted = () => void (said++ || report('document.write after load ignored in', s));
    try {
      // Like the parser: wait for an external script before the next one, unless it is marked async, or will
      // never load (`nomodule`, a data block): no load event would come, and nothing after it would run. Not
      // through onload: that is the page's own handler (an `onload` attribute).
      const wait =
        src &&
        !parsing &&
        !old.hasAttribute('async') &&
        !old.hasAttribute('nomodule') &&
        /^(module|.*(java|ecma)script)?$/i.test(type)
          ? new Promise((r) => {
              s.addEventListener('load', r);
              s.addEventListener('error', r);
            })
          : undefined;
      // An original a copy stands in for stays inert (a framework may move it, or a page clone it: it would run
      // again), marked done.
      s.type = type;
      if (s !== old) old.setAttribute(RAN, '');
      if (nonce) s.nonce = nonce;
      if (mute) d.write = d.writeln = muted;
      // An inert script has not started (HTML's "prepare the script element" stops at its type): it runs when
      // it gets a `src` where it had none, or new text (emptied first: Chromium skips setting the same text).
      if (src) {
        s.removeAttribute('src');
        s.src = (p ? p.createScriptURL(src) : src) as string;
      } else if (!parsing) {
        const code = (p ? p.createScript(old.text) : old.text) as string;
        s.replaceChildren();
        s.text = code;
      }
      if (s !== old) old.after(s);
      return wait;
    } catch (e) {
      report(`gated script ${src ?? '(inline)'} could not run`, e);
    } finally {
      if (mute)
        keys.forEach((k, i) => {
          if (d[k] === muted) {
            delete d[k];
            if (own[i]) Object.defineProperty(doc, k, own[i]);
          }
        });
    }
  };

  /** Runs queued scripts in order: inline ones at once (synchronously), external ones after their load. */
  const pump = () => {
    if (busy) return;
    for (let s = todo.shift(); s; s = todo.shift()) {
      // Withdrawn while it waited behind an external script: not run; queued again if granted again.
      if (!service(s)[0]) {
        queued.delete(s);
        continue;
      }
      const wait = run(s);
      if (wait) {
        busy = true;
        wait.then(() => {
          busy = false;
          pump();
        });
        return;
      }
    }
    for (const r of waiters.splice(0)) r();
  };

  /**
   * Whether a gated script or iframe may load, its service and its id. The service is the one named, or, under
   * a category, the one whose `domains` hold the host of its URL; its own choice decides when there is one: a
   * refused service stays out under a granted category, its scripts as its iframes.
   */
  const service = (el: Element, src = el.getAttribute('data-src') ?? el.getAttribute('src')) => {
    const id = el.getAttribute('data-assenso')!.trim();
    if (!ids.has(id) && !warned.has(id)) {
      warned.add(id);
      console.warn(
        `[assenso] <${el.localName} data-assenso="${id}">: not a configured category or service id; it stays blocked`,
      );
    }
    let host = '';
    try {
      host = new URL(src!, doc.baseURI).hostname;
    } catch {}
    const svc = o.cfg.categories
      .flatMap((c) => c.services)
      .find(
        (s) =>
          s.id === id || (s.category === id && s.domains.some((d) => host === d || host.endsWith(`.${d}`))),
      );
    return [o.has(svc?.id ?? id), svc, id] as const;
  };

  const frame = (f: HTMLIFrameElement) => {
    const held = holders.get(f);
    const src = f.getAttribute('data-src');
    const [ok, svc, id] = service(f, src);
    // A copy of a placeholder (a cloned slide, a restored snapshot of the body) before a frame: its button is
    // dead (listeners are not cloned). Removed; the frame gets one of its own.
    const prev = f.previousElementSibling;
    if (prev !== held && prev?.className === 'assenso-placeholder') prev.remove();
    if (ok) {
      const focused = held?.contains(doc.activeElement);
      held?.remove();
      holders.delete(f);
      // Shown again if this module hid it, with the page's own inline display; the page's own `hidden` stays.
      if (f.hasAttribute(HELD)) {
        f.hidden = false;
        f.style.display = f.getAttribute(HELD)!;
      }
      f.removeAttribute(HELD);
      // Allowed from its own placeholder: focus goes to the frame that replaces it, not to <body>.
      if (focused) f.focus();
      if (src && !loaded.has(f)) {
        // A `srcdoc` would win over `src`: the page's content until consent, not after.
        f.removeAttribute('srcdoc');
        f.src = src;
      }
      loaded.add(f);
    } else {
      // Revoked after loading: unload it. Never shown again until allowed.
      if (src && f.hasAttribute('src')) f.removeAttribute('src');
      loaded.delete(f);
      let box = held;
      if (!box?.isConnected) {
        box = doc.createElement('div');
        box.className = 'assenso-placeholder';
        holders.set(f, box);
      }
      // Just before its frame, wherever the page has moved that.
      if (box.nextSibling !== f) f.before(box);
      // Filled once the delivery chunk is here; if it could not load, tried again at the next scan.
      if (!box.firstChild) o.fill(box, f, id, svc);
      // Page CSS that sets an iframe's display (`.embed iframe{display:block}`) beats `hidden`. Through the
      // CSSOM, which a strict style-src allows; its own inline display kept in HELD.
      if (!f.hidden) {
        f.setAttribute(HELD, f.style.display);
        f.style.setProperty('display', 'none', 'important');
      }
      f.hidden = true;
    }
  };

  /**
   * Whether the parser is done with a script: while the page loads, it inserts the element first and its text
   * after, maybe a task later (a chunk boundary, a yield); run earlier, an inline one would run empty, its
   * text going to the detached original. Done once the parser has prepared it at its end tag, which makes a
   * parser-inserted script without an `async` attribute async (HTML's "prepare the script element", step 4;
   * one the page created is async from the start); or once any node follows it in document order; or once the
   * page is no longer loading (DOMContentLoaded scans again); or if it comes after the parser-blocking script
   * that runs (or has just run: its microtasks, where this observer is called, see it as `currentScript`): the
   * parser, held at that script's end tag, has made nothing after it, so a page script did, from HTML
   * (`insertAdjacentHTML`, `innerHTML`), "already started" and never run by the parser.
   */
  const parsed = (s: HTMLScriptElement, cs = doc.currentScript as HTMLScriptElement | null) =>
    doc.readyState !== 'loading' ||
    (s.async && !s.hasAttribute('async')) ||
    follows(s) ||
    (cs?.async === false && cs.compareDocumentPosition(s) & 4);
  const follows = (n: Node | null): boolean => !!n && (!!n.nextSibling || follows(n.parentNode));

  /** Applies the current grants to the whole document. */
  const scan = () => {
    for (const s of doc.querySelectorAll<HTMLScriptElement>(SCRIPTS))
      if (!queued.has(s) && service(s)[0])
        if (nonce && s.nonce !== nonce) {
          // Under a nonce-based CSP only a script that carries the page's nonce runs: run with ours, markup that an
          // HTML injection put in the page (`<script type="text/plain" data-assenso="necessary">`) would get the
          // nonce the policy keeps from it. Said once; it stays inert.
          queued.add(s);
          report("gated script not run: it lacks the page's nonce (docs/embedding.md)", s);
        } else if (parsed(s)) {
          queued.add(s);
          todo.push(s);
        } else if (!busy && !todo.length) {
          // Nothing of ours runs before it: left to the parser, in document order.
          queued.add(s);
          run(s, true);
        }
    for (const [f, box] of holders)
      if (!f.isConnected) {
        box.remove();
        holders.delete(f);
      }
    for (const f of doc.querySelectorAll<HTMLIFrameElement>(FRAMES)) frame(f);
    const drained = new Promise<void>((r) => waiters.push(r));
    pump();
    return drained;
  };

  return {
    /** Runs what is now granted; the promise settles when the scripts queued so far have run. */
    apply: scan,
    /** Gates scripts and iframes added later (single-page apps). */
    observe() {
      observer ??= new MutationObserver((records) => {
        // An attribute of a gated element changed in place (a framework patching `data-src`): the iframe is held
        // or loaded afresh, under its new service. Other elements' `data-src` (a lazy-image library's) scan nothing.
        const ours = records.filter(
          (r) =>
            r.attributeName &&
            (r.attributeName === 'data-assenso' || (r.target as Element).hasAttribute('data-assenso')),
        );
        for (const { target } of ours) {
          loaded.delete(target as Element);
          holders.get(target as HTMLIFrameElement)?.remove();
        }
        // Removals too while iframes are held: a removed one takes its placeholder along.
        if (
          ours.length ||
          records.some((r) =>
            [...r.addedNodes, ...(holders.size ? r.removedNodes : [])].some((n) => n.nodeType === 1),
          )
        )
          scan();
      });
      observer.observe(doc.documentElement, {
        childList: true,
        subtree: true,
        attributeFilter: ['data-src', 'data-assenso'],
      });
      // An inline script the parser had not finished at the last insertion (see parsed()).
      if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', scan, { once: true });
    },
    disconnect() {
      observer?.disconnect();
      doc.removeEventListener('DOMContentLoaded', scan);
      // Those left to the parser are inert again; those we made live are async and stay. (One the parser has run
      // reads async false again, as one it never prepared: marked inert too, though it has run.)
      for (const s of doc.querySelectorAll<HTMLScriptElement>('script[data-assenso]'))
        if (!s.async) s.type = 'text/plain';
    },
  };
}
