import { within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { page } from 'vitest/browser';
import { Banner, type BannerProps, type Layout } from '../../src/ui/Banner.tsx';
import { en } from '../../src/ui/i18n/en.ts';
import { type Rendered, renderers } from './renderers.tsx';

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

function props(over: Partial<BannerProps> = {}): BannerProps {
  return {
    m: en,
    layout: 'bar',
    onAcceptAll: vi.fn(),
    onRejectAll: vi.fn(),
    onCustomise: vi.fn(),
    onClose: vi.fn(),
    ...over,
  };
}

describe.each(renderers)('Banner ($name)', (renderer) => {
  let r: Rendered | undefined;
  afterEach(() => r?.unmount());

  it('offers Accept all, Reject all and Customise with equal prominence, one action each', () => {
    const p = props();
    r = renderer.render(<Banner {...p} />);
    const q = within(r.box);
    const buttons = [en.acceptAll, en.rejectAll, en.customise].map((name) => q.getByRole('button', { name }));
    const looks = buttons.map((b) => {
      const s = getComputedStyle(b);
      const box = b.getBoundingClientRect();
      return [
        b.tagName,
        b.className,
        s.fontSize,
        s.fontWeight,
        s.backgroundColor,
        s.color,
        box.height,
      ].join();
    });
    expect(new Set(looks).size).toBe(1);
    buttons[0]!.click();
    buttons[1]!.click();
    buttons[2]!.click();
    expect(p.onAcceptAll).toHaveBeenCalledTimes(1);
    expect(p.onRejectAll).toHaveBeenCalledTimes(1);
    expect(p.onCustomise).toHaveBeenCalledTimes(1);
  });

  it('has a close button (×) with an accessible name that calls onClose', () => {
    const p = props();
    r = renderer.render(<Banner {...p} />);
    within(r.box).getByRole('button', { name: en.closeBanner }).click();
    expect(p.onClose).toHaveBeenCalledTimes(1);
    expect(p.onAcceptAll).not.toHaveBeenCalled();
  });

  it.each<Layout>(['bar', 'box', 'modal'])(
    'is a labelled dialog in %s layout (aria-modal only when modal)',
    (layout) => {
      r = renderer.render(<Banner {...props({ layout })} />);
      const dialog = within(r.box).getByRole('dialog', { name: en.bannerTitle });
      expect(dialog.getAttribute('aria-modal')).toBe(layout === 'modal' ? 'true' : null);
      expect(dialog.classList.contains(layout)).toBe(true);
      expect(getComputedStyle(dialog).position).toBe('fixed');
    },
  );

  it('renders hostile strings as text and never makes a javascript: link', () => {
    const m = {
      ...en,
      bannerTitle: HOSTILE,
      bannerText: `<b>bold</b> ${HOSTILE}`,
      acceptAll: '<script>x()</script>',
    };
    r = renderer.render(<Banner {...props({ m, privacyUrl: 'javascript:alert(1)', notices: [HOSTILE] })} />);
    expect(r.box.querySelector('img, b, script')).toBeNull();
    expect(r.box.querySelector('a')).toBeNull();
    expect(within(r.box).getByRole('heading').textContent).toBe(HOSTILE);
    expect(within(r.box).getByRole('button', { name: '<script>x()</script>' })).toBeTruthy();
    expect(r.box.textContent).toContain('<b>bold</b>');
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('links an http(s) privacy policy', () => {
    r = renderer.render(<Banner {...props({ privacyUrl: 'https://shop.example/privacy' })} />);
    const link = within(r.box).getByRole('link', { name: en.privacyPolicy });
    expect(link.getAttribute('href')).toBe('https://shop.example/privacy');
    expect(link.getAttribute('rel')).toContain('noopener');
  });

  it('says why it is back before anything else', () => {
    r = renderer.render(<Banner {...props({ notices: ['Your choice expired.', 'GPC honoured.'] })} />);
    const texts = [...r.box.querySelectorAll('p')].map((p) => p.textContent);
    expect(texts.slice(0, 2)).toEqual(['Your choice expired.', 'GPC honoured.']);
  });

  it('has targets of at least 24 px', () => {
    r = renderer.render(<Banner {...props()} />);
    for (const b of r.box.querySelectorAll('button')) {
      const box = b.getBoundingClientRect();
      expect(Math.min(box.width, box.height)).toBeGreaterThanOrEqual(24);
    }
  });

  describe('at 320 px', () => {
    afterEach(() => page.viewport(414, 896));
    it.each<Layout>(['bar', 'box', 'modal'])(
      'fits the %s layout without horizontal scrolling',
      async (layout) => {
        await page.viewport(320, 640);
        r = renderer.render(
          <Banner {...props({ layout, m: { ...en, bannerText: en.bannerText.repeat(3) } })} />,
        );
        const dialog = r.box.querySelector<HTMLElement>('[role=dialog]')!;
        const box = dialog.getBoundingClientRect();
        expect(box.left).toBeGreaterThanOrEqual(0);
        expect(box.right).toBeLessThanOrEqual(320);
        expect(dialog.scrollWidth).toBeLessThanOrEqual(dialog.clientWidth);
        for (const b of dialog.querySelectorAll('button'))
          expect(b.getBoundingClientRect().right).toBeLessThanOrEqual(320);
        expect(parseFloat(getComputedStyle(dialog.querySelector('p')!).fontSize)).toBeGreaterThanOrEqual(14);
      },
    );
  });
});
