// Accessibility fixes found by a review in Chromium: reflow at 400% zoom, forced colours, long words. Each
// test failed before its fix.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cdp, page } from 'vitest/browser';
import type { NoticeCategory } from '../../src/protocol/notice.ts';
import { Banner } from '../../src/ui/Banner.tsx';
import { en } from '../../src/ui/i18n/en.ts';
import { PreferenceCenter, type PreferenceCenterProps } from '../../src/ui/PreferenceCenter.tsx';
import { prefsProps, type Rendered, renderers } from './renderers.tsx';

const CATEGORIES: NoticeCategory[] = ['necessary', 'analytics', 'marketing'].map((id, i) => ({
  id,
  title: id,
  description: 'A sentence or two about what this category does with the visitor’s data and why.',
  required: i === 0,
  lifetimeDays: 182,
  services: [],
}));

const props = (over: Partial<PreferenceCenterProps> = {}) =>
  prefsProps(CATEGORIES, { identity: null, ...over });

/** Emulates `forced-colors: active` (Windows high contrast) for the page the tests run in. */
async function forcedColors(on: boolean) {
  await cdp().send('Emulation.setEmulatedMedia', {
    features: [{ name: 'forced-colors', value: on ? 'active' : 'none' }],
  });
}

describe.each(renderers)('accessibility ($name)', (renderer) => {
  let r: Rendered | undefined;
  afterEach(async () => {
    r?.unmount();
    await page.viewport(414, 896);
    await forcedColors(false);
  });

  it('at 400% zoom (320×256) the preference center body is not squeezed: the whole dialog scrolls', async () => {
    await page.viewport(320, 256);
    r = renderer.render(<PreferenceCenter {...props()} />);
    const pc = r.box.querySelector<HTMLElement>('.pc')!;
    const bd = pc.querySelector<HTMLElement>('.bd')!;
    // Its content shows whole, and the dialog (within the viewport) scrolls to reach all of it.
    expect(bd.scrollHeight).toBeLessThanOrEqual(bd.clientHeight + 1);
    expect(pc.getBoundingClientRect().height).toBeLessThanOrEqual(256);
    expect(pc.scrollHeight).toBeGreaterThan(pc.clientHeight);
  });

  // A guard, not a fix: the short-viewport rule leaves the usual layout alone.
  it('at a normal height only the body scrolls, between a fixed header and the buttons', async () => {
    await page.viewport(414, 600);
    r = renderer.render(<PreferenceCenter {...props({ categories: [...CATEGORIES, ...CATEGORIES] })} />);
    const pc = r.box.querySelector<HTMLElement>('.pc')!;
    const bd = pc.querySelector<HTMLElement>('.bd')!;
    expect(bd.scrollHeight).toBeGreaterThan(bd.clientHeight);
    expect(pc.scrollHeight).toBeLessThanOrEqual(pc.clientHeight + 1);
  });

  it('each "Services" expander is described by its category, so that they differ to a screen reader', async () => {
    const categories = CATEGORIES.map((c) => ({
      ...c,
      services: [{ id: `s-${c.id}`, name: 'A service', cookies: [] }],
    }));
    r = renderer.render(<PreferenceCenter {...props({ categories })} />);
    const described = [...r.box.querySelectorAll('summary')].map(
      (s) => r!.root.getElementById(s.getAttribute('aria-describedby') ?? '')?.textContent,
    );
    expect(described).toEqual(['necessary', 'analytics', 'marketing']);
  });

  it('native parts follow the theme (color-scheme)', async () => {
    for (const theme of ['light', 'dark'] as const) {
      r = renderer.render(<PreferenceCenter {...props()} />, { theme });
      expect(getComputedStyle(r.box).colorScheme).toBe(theme);
      r.unmount();
    }
    r = renderer.render(<PreferenceCenter {...props()} />, { theme: 'auto' });
    expect(getComputedStyle(r.box).colorScheme).toBe('light dark');
  });

  it('a long German compound word wraps: the switch stays inside the dialog at 320 px', async () => {
    await page.viewport(320, 640);
    const long = 'Personalisierungsdienstleistungsanbieterverwaltungseinstellungen';
    const categories = CATEGORIES.map((c) => ({ ...c, title: long }));
    r = renderer.render(<PreferenceCenter {...props({ categories })} />);
    const pc = r.box.querySelector<HTMLElement>('.pc')!.getBoundingClientRect();
    for (const sw of r.box.querySelectorAll('.sw')) {
      const box = sw.getBoundingClientRect();
      expect(box.right).toBeLessThanOrEqual(pc.right);
      expect(box.width).toBe(44);
    }
    expect(r.box.querySelector<HTMLElement>('.bd')!.scrollWidth).toBeLessThanOrEqual(
      r.box.querySelector<HTMLElement>('.bd')!.clientWidth,
    );
  });

  it('forced colours: a switch shows its state (knob and track differ between on and off)', async () => {
    await forcedColors(true);
    r = renderer.render(<PreferenceCenter {...props()} />);
    const look = (name: string) => {
      const sw = r!.box.querySelector<HTMLElement>(`[aria-labelledby=assenso-c-${name}]`)!;
      const knob = getComputedStyle(sw, '::after');
      return [getComputedStyle(sw).backgroundColor, knob.backgroundColor];
    };
    const [offTrack, offKnob] = look('analytics');
    expect(matchMedia('(forced-colors: active)').matches).toBe(true);
    expect(offKnob).not.toBe(offTrack); // the knob is visible on its track
    const [onTrack, onKnob] = look('necessary');
    expect(onKnob).not.toBe(onTrack);
    expect([onTrack, onKnob]).not.toEqual([offTrack, offKnob]);
  });

  it('forced colours: every button of the banner and the preference center has a visible border', async () => {
    await forcedColors(true);
    r = renderer.render(
      <>
        <Banner
          m={en}
          layout="box"
          onAcceptAll={vi.fn()}
          onRejectAll={vi.fn()}
          onCustomise={vi.fn()}
          onClose={vi.fn()}
        />
        <PreferenceCenter {...props()} />
      </>,
    );
    const buttons = [...r.box.querySelectorAll<HTMLElement>('.b')];
    expect(buttons).toHaveLength(6);
    const borders = buttons.map((b) => {
      const s = getComputedStyle(b);
      return `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`;
    });
    // The same outline for all (Accept and Reject keep equal prominence), and one that is drawn.
    expect(new Set(borders).size).toBe(1);
    expect(borders[0]).toMatch(/^1px solid rgb\(/);
  });
});
