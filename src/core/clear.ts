import type { ResolvedService } from './types.ts';

/** Whether a declared name (exact, or a `prefix*` pattern) covers a cookie or storage key. */
export const matches = (pat: string, n: string) =>
  pat.endsWith('*') ? n.startsWith(pat.slice(0, -1)) : n === pat;

/**
 * Deletes a service's declared cookies (exact names and `prefix*` patterns) on every domain and path
 * variant a script could have used, and its localStorage / sessionStorage keys.
 */
export function clearServiceData(s: ResolvedService, doc: Document = document) {
  const win = doc.defaultView!;
  const loc = doc.location;
  try {
    const jar = doc.cookie.split(/;\s*/);
    const present = jar.map((c) => c.split('=')[0]!);
    // The widget's own decision is no service's cookie, whatever a pattern covers ("*", "a*" for `assenso`) or a
    // service names: known by its value (docs/cookie.md, `v=1&k=<siteId>&…`), so whatever its configured name
    // and whichever site's it is (a sibling subdomain's, on a shared parent domain). Deleting it dropped the
    // record of the very withdrawal being cleaned up after.
    const ours = new Set(jar.filter((c) => /^[^=]+=v=\d+&k=/.test(c)).map((c) => c.split('=')[0]));
    const parts = loc.hostname.split('.');
    // host-only (''), and each parent domain with and without the leading dot
    const domains = [''];
    for (let i = 0; i < parts.length - 1; i++)
      domains.push(parts.slice(i).join('.'), `.${parts.slice(i).join('.')}`);
    const paths = ['/'];
    const segs = loc.pathname.split('/').filter(Boolean);
    for (let i = 1; i <= segs.length; i++)
      paths.push(`/${segs.slice(0, i).join('/')}`, `/${segs.slice(0, i).join('/')}/`);
    // A secure context (https, and http://localhost in development) can hold `Secure` cookies, `__Host-` and
    // `__Secure-` ones among them, which only a `Secure` write deletes; and partitioned ones (CHIPS), which are
    // other cookies of the same name: deleted by a write that is partitioned too.
    const variants = win.isSecureContext ? ['; Secure', '; Secure; Partitioned'] : [''];
    // One cookie at a time: a spec that throws (clearServiceData is public, so checkConfig may not have seen
    // it) must not keep the service's other cookies on the visitor's device.
    for (const c of s.cookies)
      try {
        const names = (c.name.endsWith('*') ? present.filter((n) => matches(c.name, n)) : [c.name]).filter(
          (n) => !ours.has(n),
        );
        const ds = c.domain
          ? [...domains, c.domain.replace(/^\./, ''), `.${c.domain.replace(/^\./, '')}`]
          : domains;
        const ps = c.path ? [...paths, c.path] : paths;
        for (const n of names)
          for (const d of ds)
            for (const p of ps)
              for (const v of variants)
                doc.cookie = `${n}=; Max-Age=0; Path=${p}${d ? `; Domain=${d}` : ''}${v}`;
      } catch {}
  } catch {}
  for (const st of ['localStorage', 'sessionStorage'] as const) {
    try {
      const store = win[st];
      // The keys first, then the removals: removing reorders Chromium's key(i), which skipped keys.
      for (const k of Object.keys(store)) if (s.storageKeys.some((p) => matches(p, k))) store.removeItem(k);
    } catch {}
  }
}
