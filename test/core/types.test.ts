import { expect, it } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { siteConfig } from './helpers.ts';

/** The typed event map is part of the API: these lines must keep compiling, or failing, as marked. */
it('types events and views by the EventMap', () => {
  const c = createConsent(siteConfig(), { gpc: false });
  const off = c.on('change', (e) => {
    const ok: boolean | undefined = e.granted.categories.analytics;
    void ok;
    // @ts-expect-error the change event has no `foo`
    void e.foo;
  });
  c.on('view', (v) => {
    // @ts-expect-error a view is 'none' | 'banner' | 'preferences'
    const bad: 'hidden' = v;
    void bad;
  });
  // @ts-expect-error unknown event name
  c.on('nope', () => {});
  // @ts-expect-error open() takes a visible view only
  c.open('none');
  // @ts-expect-error save() takes choices as booleans
  void c.save({ categories: { analytics: 'yes' } }).catch(() => {});
  expect(typeof off).toBe('function');
  c.destroy();
});
