import { within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import type { NoticeCategory } from '../../src/protocol/notice.ts';
import { initialDraft, toggleCategory, toggleService } from '../../src/ui/draft.ts';
import { en } from '../../src/ui/i18n/en.ts';
import { PreferenceCenter, type PreferenceCenterProps } from '../../src/ui/PreferenceCenter.tsx';
import { prefsProps, type Rendered, renderers } from './renderers.tsx';

const CATEGORIES: NoticeCategory[] = [
  {
    id: 'necessary',
    title: 'Necessary',
    description: 'Needed.',
    required: true,
    lifetimeDays: 182,
    services: [],
  },
  {
    id: 'analytics',
    title: 'Analytics',
    description: 'Counting visits.',
    required: false,
    lifetimeDays: 182,
    services: [
      {
        id: 'matomo',
        name: 'Matomo',
        provider: 'InnoCraft',
        purpose: 'Statistics',
        privacyUrl: 'https://matomo.example/privacy',
        cookies: [{ name: '_pk_id', duration: '13 months', purpose: 'Visitor id' }],
      },
      { id: 'hotjar', name: 'Hotjar', cookies: [], privacyUrl: 'javascript:alert(1)' },
    ],
  },
];

const props = (over: Partial<PreferenceCenterProps> = {}) =>
  prefsProps(CATEGORIES, { onDownload: vi.fn(), ...over });

describe.each(renderers)('PreferenceCenter ($name)', (renderer) => {
  let r: Rendered | undefined;
  afterEach(() => r?.unmount());

  it('is a labelled modal dialog with a switch per category; the required one is on and disabled', () => {
    r = renderer.render(<PreferenceCenter {...props()} />);
    const q = within(r.box);
    const dialog = q.getByRole('dialog', { name: en.prefsTitle });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    const necessary = q.getByRole('switch', { name: 'Necessary' });
    expect(necessary.getAttribute('aria-checked')).toBe('true');
    expect((necessary as HTMLButtonElement).disabled).toBe(true);
    const analytics = q.getByRole('switch', { name: 'Analytics' });
    expect(analytics.getAttribute('aria-checked')).toBe('false');
    expect(q.getByText(en.alwaysOn)).toBeTruthy();
  });

  it('says a notice first, inside the dialog, as an alert (e.g. a refused email link)', () => {
    r = renderer.render(<PreferenceCenter {...props({ notice: en.linkFailed })} />);
    const q = within(r.box);
    const alert = q.getByRole('alert');
    expect(alert.textContent).toBe(en.linkFailed);
    expect(q.getByRole('dialog', { name: en.prefsTitle }).contains(alert)).toBe(true);
    r.unmount();
    r = renderer.render(<PreferenceCenter {...props()} />);
    expect(within(r.box).queryByRole('alert')).toBeNull();
  });

  it('switches are operable by keyboard (Space and Enter)', async () => {
    const p = props();
    r = renderer.render(<PreferenceCenter {...p} />);
    const analytics = within(r.box).getByRole('switch', { name: 'Analytics' });
    analytics.focus();
    await userEvent.keyboard(' ');
    expect(p.onCategory).toHaveBeenLastCalledWith('analytics', true);
    await userEvent.keyboard('{Enter}');
    expect(p.onCategory).toHaveBeenCalledTimes(2);
  });

  it('reflects the draft and lists services with their own switches and cookies', async () => {
    const p = props();
    r = renderer.render(<PreferenceCenter {...p} />);
    const q = within(r.box);
    const draft = toggleService(p.draft, CATEGORIES[1]!, 'matomo', true);
    r.rerender(<PreferenceCenter {...p} draft={draft} />);
    // One service on: the category's own consent stays off.
    expect(q.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked')).toBe('false');
    const summary = q.getByText('Services (2)');
    await userEvent.click(summary);
    const matomo = q.getByRole('switch', { name: 'Matomo' });
    expect(matomo.getAttribute('aria-checked')).toBe('true');
    expect(q.getByRole('switch', { name: 'Hotjar' }).getAttribute('aria-checked')).toBe('false');
    await userEvent.click(q.getByRole('switch', { name: 'Hotjar' }));
    expect(p.onService).toHaveBeenCalledWith('analytics', 'hotjar', true);
    const table = q.getByRole('table', { name: en.cookies });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Name', 'Duration', 'Purpose']);
    expect(
      within(table)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['_pk_id', '13 months', 'Visitor id']);
    expect(q.getByText('Provided by InnoCraft')).toBeTruthy();
  });

  it('only http(s) privacy links become links', () => {
    r = renderer.render(<PreferenceCenter {...props({ privacyUrl: ' JavaScript:alert(1)' })} />);
    const links = [...r.box.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(links).toEqual(['https://matomo.example/privacy']);
  });

  it('Save, Accept all and Reject all are equal buttons; × closes; download only when offered', () => {
    const p = props();
    r = renderer.render(<PreferenceCenter {...p} />);
    const q = within(r.box);
    expect(q.queryByRole('button', { name: en.downloadReceipt })).toBeNull();
    const buttons = [en.save, en.acceptAll, en.rejectAll].map((name) => q.getByRole('button', { name }));
    expect(new Set(buttons.map((b) => `${b.className}|${getComputedStyle(b).fontWeight}`)).size).toBe(1);
    for (const b of buttons) b.click();
    q.getByRole('button', { name: en.closePrefs }).click();
    expect(
      [p.onSave, p.onAcceptAll, p.onRejectAll, p.onClose].map(
        (f) => (f as ReturnType<typeof vi.fn>).mock.calls.length,
      ),
    ).toEqual([1, 1, 1, 1]);
    r.rerender(<PreferenceCenter {...p} canDownload />);
    q.getByRole('button', { name: en.downloadReceipt }).click();
    expect(p.onDownload).toHaveBeenCalledTimes(1);
  });

  it('renders hostile category and service strings as text', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const categories: NoticeCategory[] = [
      {
        ...CATEGORIES[1]!,
        title: evil,
        description: evil,
        services: [{ id: 's', name: evil, provider: evil, cookies: [{ name: evil }] }],
      },
    ];
    r = renderer.render(
      <PreferenceCenter {...props({ categories, draft: initialDraft(categories, null) })} />,
    );
    await userEvent.click(within(r.box).getByText('Services (1)'));
    expect(r.box.querySelector('img')).toBeNull();
    expect(within(r.box).getAllByText(evil).length).toBeGreaterThanOrEqual(3);
  });
});

describe('draft', () => {
  it('starts with nothing optional on, required always on; prefills a previous choice', () => {
    expect(initialDraft(CATEGORIES, null)).toEqual({
      categories: { necessary: true, analytics: false },
      services: { matomo: false, hotjar: false },
    });
    const prev = {
      categories: { necessary: true, analytics: true },
      services: { matomo: true, hotjar: false },
    };
    expect(initialDraft(CATEGORIES, prev)).toEqual(prev);
  });

  it('a category that GPC denies now starts off, its services too, whatever was chosen before', () => {
    const prev = {
      categories: { necessary: true, analytics: true },
      services: { matomo: true, hotjar: true },
    };
    expect(initialDraft(CATEGORIES, prev, ['analytics'])).toEqual({
      categories: { necessary: true, analytics: false },
      services: { matomo: false, hotjar: false },
    });
  });

  it("a category switch sets its services; a service switch sets that service alone, never its category's consent", () => {
    const on = toggleCategory(initialDraft(CATEGORIES, null), CATEGORIES[1]!, true);
    expect(on.services).toEqual({ matomo: true, hotjar: true });
    const one = toggleService(on, CATEGORIES[1]!, 'matomo', false);
    expect(one.categories.analytics).toBe(true);
    // But the last service left on switched off refuses the category too: Save granted it, every service off.
    expect(toggleService(one, CATEGORIES[1]!, 'hotjar', false)).toEqual({
      categories: { necessary: true, analytics: false },
      services: { matomo: false, hotjar: false },
    });
    // One service allowed (a placeholder's Allow): the category stays off, also after switching it off and on.
    const off = initialDraft(CATEGORIES, { categories: {}, services: { matomo: true } });
    expect(off).toMatchObject({
      categories: { analytics: false },
      services: { matomo: true, hotjar: false },
    });
    const again = toggleService(
      toggleService(off, CATEGORIES[1]!, 'matomo', false),
      CATEGORIES[1]!,
      'matomo',
      true,
    );
    expect(again).toEqual(off);
    expect(toggleCategory(on, CATEGORIES[0]!, false)).toBe(on);
  });
});
