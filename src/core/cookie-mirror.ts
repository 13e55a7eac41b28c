import { MAX_LIFETIME_DAYS } from './config.ts';
import { bare, DAY, readDecision } from './decision.ts';
import { DECISION_FORMAT, type Choices, type Decision, type ResolvedConfig } from './types.ts';

/**
 * The first-party cookie that mirrors the decision, so that start-up can decide synchronously and the
 * site's backend can read it. Format (docs/cookie.md): an application/x-www-form-urlencoded string
 * `v=1&k=<siteId>&r=<revision>&t=<decidedAt>&x=<expiresAt>&m=<method>&id=<receiptId>&d=<deviceId>
 * &g=<0|1>&c=<category>:<0|1>:<expiry>.…&s=<service>:<0|1>[:<expiry>].…` where `s` lists only services whose
 * choice differs from their category's, or that have an expiry of their own.
 */

export function encodeDecision(d: Decision, cfg: ResolvedConfig): string {
  const cat = new Map(cfg.categories.flatMap((c) => c.services.map((s) => [s.id, c.id])));
  const list = (o: Choices) =>
    Object.keys(o)
      .map((id) => `${id}:${+o[id]!}${d.expiries[id] ? `:${d.expiries[id]}` : ''}`)
      .join('.');
  const svc: Choices = {};
  for (const [id, v] of Object.entries(d.services))
    if (v !== d.categories[cat.get(id)!] || id in d.expiries) svc[id] = v;
  return new URLSearchParams({
    v: `${d.format}`,
    k: cfg.siteId,
    r: d.revision,
    t: `${d.decidedAt}`,
    x: `${d.expiresAt}`,
    m: d.method,
    id: d.receiptId,
    d: d.deviceId,
    g: `${+d.gpc}`,
    c: list(d.categories),
    s: list(svc),
  }).toString();
}

/** Digits only, as written: `0x1f`, `1e3`, ` 1` are no time. */
const num = (x: string | null) => (/^\d+$/.test(x!) ? Number(x) : Number.NaN);

/** Parses a cookie value; anything unexpected is null (no decision; see readDecision for one from the future). */
export function decodeDecision(raw: string, cfg: ResolvedConfig, now = Date.now()): Decision | null {
  try {
    const p = new URLSearchParams(raw);
    // Another site's decision (a sibling subdomain sharing the parent domain and the name) is none of ours.
    if ((p.get('k') ?? cfg.siteId) !== cfg.siteId) throw 0;
    // Without a prototype: a service not listed reads its category below, never a polluted Object.prototype.
    const categories: Choices = bare();
    const expiries: Record<string, number> = bare();
    const svc: Choices = bare();
    const each = (key: string, to: Choices) => {
      for (const e of (p.get(key) ?? '').split('.')) {
        if (!e) continue;
        const [id, v, x, extra] = e.split(':');
        if (!id || (v !== '0' && v !== '1') || extra !== undefined) throw 0;
        to[id] = v === '1';
        if (x !== undefined) expiries[id] = num(x);
      }
    };
    each('c', categories);
    each('s', svc);
    // A service not listed follows its category (none for a category not answered: no refusal nobody made).
    const services: Choices = bare();
    for (const c of cfg.categories)
      for (const s of c.services) {
        const v = svc[s.id] ?? categories[c.id];
        if (v !== undefined) services[s.id] = v;
      }
    return readDecision(
      {
        format: p.get('v') === `${DECISION_FORMAT}` ? DECISION_FORMAT : -1,
        revision: p.get('r'),
        decidedAt: num(p.get('t')),
        expiresAt: num(p.get('x')),
        method: p.get('m'),
        categories,
        services,
        expiries,
        receiptId: p.get('id'),
        deviceId: p.get('d'),
        gpc: p.get('g') === '1',
      },
      now,
    );
  } catch {
    return null;
  }
}

export interface CookieMirror {
  /**
   * `now`: the reader's clock (a decision from more than a day after it is none). A decision no newer than the
   * site's last reset (`reset`) is none either.
   */
  read(now?: number): Decision | null;
  /** When the decision was last reset, here or on a sibling subdomain sharing the cookie (0: never), as read. */
  reset: number;
  /** `now` is the controller's clock: Max-Age is relative to it. */
  write(d: Decision, now: number): void;
  /** Removes the decision; with `cookie.domain` (shared with sibling subdomains) leaves the time of it, `at`. */
  clear(at: number): void;
}

/** Reads and writes the mirror on `document.cookie`; blocked cookies (sandboxed frames) fail soft. */
export function createCookieMirror(cfg: ResolvedConfig, doc: Document = document): CookieMirror {
  const { name, path, domain, sameSite } = cfg.cookie;
  const secure = doc.location?.protocol === 'https:';
  const put = (value: string, maxAge: number, p = path, dom = domain) => {
    try {
      doc.cookie =
        `${name}=${value}; Max-Age=${maxAge}; Path=${p}${dom ? `; Domain=${dom}` : ''}` +
        // SameSite=None is only accepted with Secure; on plain http fall back to Lax.
        `; SameSite=${sameSite === 'None' && !secure ? 'Lax' : sameSite}${secure ? '; Secure' : ''}`;
    } catch {}
  };
  /** Another site's copy is visible (a sibling subdomain sharing the parent domain): its copies are left alone. */
  let shared = false;
  let told = false;
  /**
   * Every copy this site may have left (host-only or on a parent domain; at the root, at `path` or along this
   * page's path: a configuration that moved the cookie left the old one, which the newest-wins read would take
   * back).
   */
  const wipe = () => {
    const loc = doc.location;
    const host = loc?.hostname.split('.') ?? [];
    const paths = new Set(['/', path]);
    let at = '';
    for (const seg of loc?.pathname.split('/').filter(Boolean) ?? []) {
      at += `/${seg}`;
      paths.add(at).add(`${at}/`);
    }
    for (let i = 0; i < host.length; i++)
      for (const p of paths) put('', 0, p, i ? host.slice(i - 1).join('.') : '');
  };
  const mirror: CookieMirror = {
    reset: 0,
    read(now = 1 / 0) {
      let best: Decision | null = null;
      shared = false;
      mirror.reset = 0;
      try {
        // Several cookies of that name may be visible (another path or domain): the newest decision wins.
        for (const part of doc.cookie.split(/;\s*/)) {
          const eq = part.indexOf('=');
          if (part.slice(0, eq) !== name) continue;
          const v = part.slice(eq + 1);
          const d = decodeDecision(v, cfg, now);
          if (d && (!best || d.decidedAt > best.decidedAt)) best = d;
          const p = new URLSearchParams(v);
          const k = p.get('k');
          if (k && k !== cfg.siteId) shared = true;
          // This site's reset mark (clear()), not from the future (a planted one would outrank every decision).
          const t = /^\d+$/.test(p.get('t')!) ? Number(p.get('t')) : 0;
          if (k === cfg.siteId && p.get('m') === 'reset' && t <= now + DAY)
            mirror.reset = Math.max(mirror.reset, t);
        }
      } catch {}
      return best && best.decidedAt >= mirror.reset ? best : null;
    },
    write(d, now) {
      // Kept until the last category expires, so that stale choices can still prefill the banner.
      const until = Math.max(d.expiresAt, ...Object.values(d.expiries));
      const v = encodeDecision(d, cfg);
      const age = Math.max(1, Math.ceil((until - now) / 1000));
      put(v, age);
      // Read back: another copy of ours that reads as newer (left by an earlier configuration, or planted from a
      // sibling subdomain), or a value the browser refused (over its 4 kB: many services chosen one by one),
      // must not leave an older decision in force. The other copies go; a refused value leaves none (IndexedDB
      // has the decision).
      if (mirror.read(now)?.receiptId !== d.receiptId && !shared) {
        wipe();
        put(v, age);
        // Still not there: refused (over its 4 kB, cookies blocked, a domain the page cannot set), once a page.
        if (mirror.read(now)?.receiptId !== d.receiptId && !told) {
          told = true;
          console.warn(
            `[assenso] the browser refused the consent cookie${v.length > 3e3 ? ' (over 4 kB)' : ''}: not kept`,
          );
        }
      }
    },
    clear(at) {
      put('', 0);
      if (mirror.read() && !shared) wipe();
      // Shared with sibling subdomains, each with its own IndexedDB copy: a mark of the reset, so that a sibling
      // neither applies its copy nor writes it back to the cookie (which undid the reset everywhere). Kept as
      // long as any copy can last.
      if (domain) put(`v=${DECISION_FORMAT}&k=${cfg.siteId}&t=${at}&m=reset`, MAX_LIFETIME_DAYS * 86_400);
    },
  };
  return mirror;
}
