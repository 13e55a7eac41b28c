import { describe, expect, it } from 'vitest';
import { clearServiceData, resolveConfig } from '../../src/core/index.ts';
import type { ResolvedService } from '../../src/core/types.ts';
import { cookieNames, setCookie, uid } from './helpers.ts';

const service = (cookies: unknown[]) => {
  const warnings: string[] = [];
  const cfg = resolveConfig(
    {
      siteId: 'x',
      categories: [
        { id: 'n', required: true, title: 'N', description: 'N' },
        { id: 'a', title: 'A', description: 'A', services: [{ id: 's', cookies }] },
      ],
    },
    (m) => warnings.push(m),
  );
  return { s: cfg.categories[1]!.services[0]!, warnings };
};

describe('clearing a service’s cookies on withdrawal', () => {
  it('one bad cookie spec does not stop the others from being cleared', () => {
    const id = uid();
    setCookie(`a${id}=1; path=/`);
    setCookie(`b${id}=1; path=/`);
    setCookie(`c${id}x=1; path=/`);
    localStorage.setItem(`k${id}`, '1');
    // Built by hand, as a caller of clearServiceData may: no checkConfig in between.
    const s: ResolvedService = {
      ...service([]).s,
      cookies: [{ name: `a${id}`, domain: 5 as never }, { name: `b${id}` }, { name: `c${id}*` }],
      storageKeys: [`k${id}`],
    };
    expect(() => clearServiceData(s)).not.toThrow();
    expect(cookieNames()).not.toContain(`b${id}`);
    expect(cookieNames()).not.toContain(`c${id}x`);
    expect(localStorage.getItem(`k${id}`)).toBeNull();
    setCookie(`a${id}=; max-age=0; path=/`);
  });

  it('a cookie whose declared domain or path was invalid is still cleared (the bad field is dropped)', () => {
    const id = uid();
    setCookie(`a${id}=1; path=/`);
    setCookie(`b${id}=1; path=/`);
    const { s, warnings } = service([
      { name: `a${id}`, domain: 5, path: 'x' },
      { name: `b${id}`, domain: location.hostname },
    ]);
    expect(warnings).toHaveLength(2);
    clearServiceData(s);
    expect(cookieNames().filter((n) => n!.endsWith(id))).toEqual([]);
  });

  it("never clears the widget's own consent cookie, whatever a pattern covers or a service names", () => {
    const id = uid();
    // A decision mirror (docs/cookie.md), under any name, and a cookie of the service's beside it.
    setCookie(`m${id}=v=1&k=shop&r=1&t=1; path=/`);
    setCookie(`m${id}x=1; path=/`);
    clearServiceData({ ...service([]).s, cookies: [{ name: `m${id}*` }, { name: `m${id}` }] });
    expect(cookieNames().filter((n) => n!.startsWith(`m${id}`))).toEqual([`m${id}`]);
    setCookie(`m${id}=; max-age=0; path=/`);
  });

  it('a bare "*" is no pattern: ignored with a warning, the site\'s other cookies stay', () => {
    const id = uid();
    setCookie(`session${id}=1; path=/`);
    setCookie(`s${id}=1; path=/`);
    const { s, warnings } = service([{ name: '*' }, { name: `s${id}` }]);
    expect(warnings).toHaveLength(1);
    clearServiceData(s);
    expect(cookieNames().filter((n) => n!.endsWith(id))).toEqual([`session${id}`]);
    setCookie(`session${id}=; max-age=0; path=/`);
  });

  it('on a secure context that is no https (http://localhost): __Host- and __Secure- cookies and partitioned (CHIPS) ones too', () => {
    expect(isSecureContext && location.protocol === 'http:').toBe(true);
    const id = uid();
    setCookie(`__Host-h${id}=1; Path=/; Secure`);
    setCookie(`__Secure-s${id}=1; Path=/; Secure`);
    setCookie(`p${id}=1; Path=/; Secure; SameSite=None; Partitioned`);
    setCookie(`q${id}=1; Path=/`);
    expect(cookieNames()).toEqual(
      expect.arrayContaining([`__Host-h${id}`, `__Secure-s${id}`, `p${id}`, `q${id}`]),
    );
    clearServiceData(
      service([
        { name: `__Host-h${id}` },
        { name: `__Secure-s${id}` },
        { name: `p${id}` },
        { name: `q${id}` },
      ]).s,
    );
    expect(cookieNames().filter((n) => n?.includes(id))).toEqual([]);
  });

  it('removes every storage key a prefix names, among others (removing reorders the keys)', () => {
    // Sizes where Chromium's key order changed under the removals, and keys were skipped.
    for (const [others, n] of [
      [1, 8],
      [1, 10],
      [3, 12],
      [5, 12],
      [1, 16],
      [3, 20],
      [40, 50],
    ] as const) {
      const id = uid();
      const keys = [...Array(others)].map((_, i) => `o${id}${i}`);
      for (const k of keys) localStorage.setItem(k, '1');
      for (let i = 0; i < n; i++) localStorage.setItem(`p${id}${i}`, '1');
      clearServiceData({ ...service([]).s, storageKeys: ['x', `p${id}*`] });
      expect(Object.keys(localStorage).filter((k) => k.startsWith(`p${id}`))).toEqual([]);
      expect(keys.filter((k) => localStorage.getItem(k) === null)).toEqual([]);
      for (const k of keys) localStorage.removeItem(k);
    }
  });
});
