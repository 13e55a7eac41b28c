import { waitFor, within } from '@testing-library/preact';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import { type IdentityApi, IdentityError } from '../../src/core/identity.ts';
import type { LinkedDevice } from '../../src/protocol/identity.ts';
import { Devices, type DevicesProps, type DevicesView } from '../../src/ui/Devices.tsx';
import { devicesMessages } from '../../src/ui/devices-i18n.ts';
import { initialDraft } from '../../src/ui/draft.ts';
import { en } from '../../src/ui/i18n/en.ts';
import { PreferenceCenter } from '../../src/ui/PreferenceCenter.tsx';
import { Pairing, timeLeft } from '../../src/ui/Pairing.tsx';
import { qrPath } from '../../src/ui/qr.ts';
import { qrModules } from '../../src/ui/qr-encode.ts';
import { type Rendered, renderers } from './renderers.tsx';

const t = devicesMessages('en');
const NOW = Date.UTC(2026, 10, 24, 9, 0);
const DEVICES: LinkedDevice[] = [
  {
    id: 'a'.repeat(32),
    browser: 'Chrome · Linux',
    firstSeen: NOW - 86_400_000,
    lastSeen: NOW - 60_000,
    linkedAt: NOW - 86_400_000,
    via: 'pairing',
    current: true,
  },
  {
    id: 'b'.repeat(32),
    browser: 'Chrome · Android',
    firstSeen: NOW - 3_600_000,
    lastSeen: NOW - 120_000,
    linkedAt: NOW - 3_600_000,
    via: 'pairing',
    current: false,
  },
];
const CODE = {
  code: 'ABCD-EFGH',
  url: 'https://shop.example/#assenso-pair=ABCD-EFGH',
  expiresAt: NOW + 299_000,
};

function view(over: Partial<DevicesView> = {}): DevicesView {
  return {
    devices: DEVICES,
    code: null,
    now: NOW,
    status: '',
    claimError: '',
    busy: false,
    ask: null,
    askError: '',
    ...over,
  };
}
function props(over: Partial<DevicesProps> = {}): DevicesProps {
  return {
    t,
    lang: 'en',
    view: view(),
    onUnlink: vi.fn(),
    onShowCode: vi.fn(),
    onClaim: vi.fn(),
    onAnswer: vi.fn(),
    ...over,
  };
}

async function audit(node: Element) {
  const result = await axe.run(node, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The SVG an `<assenso-qr>` draws in its shadow root (the encoder chunk loads first). */
const drawn = (qr: Element) =>
  waitFor(() => {
    const svg = qr.shadowRoot?.querySelector('svg');
    if (!svg) throw new Error('no QR code yet');
    return svg;
  });

describe.each(renderers)('Devices ($name)', (renderer) => {
  let r: Rendered | undefined;
  afterEach(() => r?.unmount());

  it('lists the linked browsers with first and last seen, marks this one, and unlinks by button', async () => {
    const p = props();
    r = renderer.render(<Devices {...p} />);
    const q = within(r.box);
    expect(q.getByRole('region', { name: t.title })).toBeTruthy();
    const items = q.getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]?.textContent).toContain('Chrome · Linux (this device)');
    expect(items[1]?.textContent).toContain('Chrome · Android');
    expect(items[1]?.textContent).toMatch(/First seen .*2026.*, last seen .*2026/);
    const unlink = q.getByRole('button', { name: 'Unlink Chrome · Android' });
    expect(unlink.textContent).toBe(t.unlink);
    unlink.focus();
    await userEvent.keyboard('{Enter}');
    expect(p.onUnlink).toHaveBeenCalledWith(DEVICES[1]);
    await userEvent.click(q.getByRole('button', { name: 'Unlink Chrome · Linux (this device)' }));
    expect(p.onUnlink).toHaveBeenLastCalledWith(DEVICES[0]);
  });

  it('says when nothing is linked yet, and while loading', () => {
    r = renderer.render(<Devices {...props({ view: view({ devices: [] }) })} />);
    expect(within(r.box).getByText(t.alone)).toBeTruthy();
    expect(within(r.box).queryAllByRole('listitem')).toHaveLength(0);
    r.rerender(<Devices {...props({ view: view({ devices: null }) })} />);
    expect(within(r.box).getByText(t.loading)).toBeTruthy();
  });

  it('the code form is labelled, submits by keyboard, and shows a refusal tied to the input', async () => {
    const p = props();
    r = renderer.render(<Devices {...p} />);
    const q = within(r.box);
    const input = q.getByLabelText(t.enter) as HTMLInputElement;
    expect(input.getAttribute('autocomplete')).toBe('one-time-code');
    await userEvent.click(input);
    await userEvent.keyboard('abcd efgh{Enter}');
    expect(p.onClaim).toHaveBeenCalledWith('abcd efgh');
    expect(input.getAttribute('aria-invalid')).toBe('false');
    r.rerender(<Devices {...props({ view: view({ claimError: t.badCode, status: t.badCode }) })} />);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const described = r.root.getElementById(input.getAttribute('aria-describedby') ?? '');
    expect(described?.textContent).toBe(t.badCode);
    expect(q.getByRole('status').textContent).toBe(t.badCode);
  });

  it('shows a code with its countdown and a QR code with a text alternative', async () => {
    const p = props({
      view: view({ code: CODE, status: 'Your code is ABCD-EFGH. It is valid for 5 minutes.' }),
    });
    r = renderer.render(<Devices {...p} />);
    const q = within(r.box);
    expect(q.getByText('ABCD-EFGH')).toBeTruthy();
    expect(q.getByText('Valid for 4:59')).toBeTruthy();
    expect(q.getByRole('status').textContent).toContain('ABCD-EFGH');
    const qr = q.getByRole('img', { name: /QR code: .* ABCD-EFGH/ });
    expect(qr.localName).toBe('assenso-qr');
    const svg = await drawn(qr);
    expect(svg.namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect(svg.getAttribute('aria-hidden')).toBe('true');
    await userEvent.click(q.getByRole('button', { name: t.newCode }));
    expect(p.onShowCode).toHaveBeenCalledOnce();
  });

  it('an expired code says so and offers a new one', () => {
    r = renderer.render(<Devices {...props({ view: view({ code: CODE, now: CODE.expiresAt + 1 }) })} />);
    const q = within(r.box);
    expect(q.getByText(t.expired)).toBeTruthy();
    expect(q.queryByRole('img')).toBeNull();
    expect(q.queryByText('ABCD-EFGH')).toBeNull();
  });

  for (const theme of ['light', 'dark']) {
    it(`axe-core finds nothing, ${theme} theme, code shown and a refusal`, async () => {
      // On the dialog's background, as in the preference center.
      r = renderer.render(
        <div class="pc">
          <Devices {...props({ view: view({ code: CODE, claimError: t.badCode, status: t.badCode }) })} />
        </div>,
        { theme },
      );
      await drawn(within(r.box).getByRole('img'));
      expect(await audit(r.host)).toEqual([]);
    });
  }
});

describe.each(renderers)('Pairing ($name)', (renderer) => {
  let r: Rendered | undefined;
  afterEach(() => r?.unmount());

  it('offers a code before one is shown', async () => {
    const onShowCode = vi.fn();
    r = renderer.render(<Pairing t={t} code={null} now={NOW} onShowCode={onShowCode} />);
    const button = within(r.box).getByRole('button', { name: t.showCode });
    button.focus();
    await userEvent.keyboard(' ');
    expect(onShowCode).toHaveBeenCalledOnce();
  });
});

describe('QR code', () => {
  it('timeLeft counts m:ss down to 0:00', () => {
    expect(timeLeft(300_000)).toBe('5:00');
    expect(timeLeft(61_001)).toBe('1:02');
    expect(timeLeft(-5)).toBe('0:00');
  });

  it('the path covers exactly the dark modules, inside a 4-module quiet zone', () => {
    const modules = qrModules('https://shop.example/account.html#assenso-pair=ABCD-EFGH');
    expect(modules.length).toBeGreaterThanOrEqual(25);
    // Paint the path's rectangles back into a grid and compare.
    const painted = modules.map((row) => row.map(() => false));
    for (const [, x, y, w] of qrPath(modules).matchAll(/M(\d+) (\d+)h(\d+)v1H\d+z/g)) {
      for (let i = 0; i < Number(w); i++) {
        const row = painted[Number(y) - 4] as boolean[];
        expect(row[Number(x) - 4 + i]).toBe(false);
        row[Number(x) - 4 + i] = true;
      }
    }
    expect(painted).toEqual(modules);
  });
});

/** An identity API over an in-memory person: what the section asks, answered as the server would. */
function fakeIdentity(over: Partial<IdentityApi> = {}) {
  const devices = structuredClone(DEVICES);
  const calls: string[] = [];
  const api: IdentityApi = {
    enabled: true,
    identify: async () => Promise.reject(new Error('unused')),
    forget: async () => {
      calls.push('forget');
      devices.splice(0);
      return { unlinked: true };
    },
    sync: async () => {
      calls.push('sync');
      return false;
    },
    pairingCode: async () => {
      calls.push('pairingCode');
      return { code: 'WXYZ-2345', expiresAt: Date.now() + 300_000 };
    },
    pairingUrl: (code) => `https://shop.example/#assenso-pair=${code}`,
    claim: async (code) => {
      calls.push(`claim ${code}`);
      throw new IdentityError(404, {
        type: 'https://assenso.dev/problems/pairing-code-invalid',
        title: 'Unknown code',
        status: 404,
      });
    },
    devices: async () => {
      calls.push('devices');
      return { subjectId: devices.length ? 's_1' : null, devices: structuredClone(devices) };
    },
    unlink: async (id) => {
      calls.push(`unlink ${id}`);
      devices.splice(
        devices.findIndex((d) => d.id === id),
        1,
      );
    },
    askToClaim: async () => Promise.reject(new Error('unused')),
    question: () => null,
    answer: async (link) => {
      calls.push(`answer ${link}`);
      return link;
    },
    ...over,
  };
  return { api, calls };
}

/** The preference center (no categories: the section is what is tested) over an identity API. */
function prefs(api: IdentityApi) {
  const noop = () => {};
  return (
    <PreferenceCenter
      m={en}
      categories={[]}
      draft={initialDraft([], null)}
      identity={async () => api}
      onCategory={noop}
      onService={noop}
      onSave={noop}
      onAcceptAll={noop}
      onRejectAll={noop}
      onClose={noop}
    />
  );
}

describe.each(renderers)('<assenso-devices> in the preference center ($name)', (renderer) => {
  let r: Rendered | undefined;
  afterEach(() => r?.unmount());

  const open = (api: IdentityApi, theme = 'light') => {
    r = renderer.render(prefs(api), { theme });
    const el = r.box.querySelector('assenso-devices') as HTMLElement;
    return waitFor(() => {
      const box = el.shadowRoot?.querySelector('div');
      if (!box?.querySelector('li')) throw new Error('devices not listed yet');
      return { el, box, q: within(box) };
    });
  };

  it('lists, shows a code with its QR code, unlinks another device and this one', async () => {
    const { api, calls } = fakeIdentity();
    const { box, q } = await open(api);
    expect(box.className).toBe('r light');
    expect(q.getAllByRole('listitem')).toHaveLength(2);

    const show = q.getByRole('button', { name: t.showCode });
    show.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => q.getByText('WXYZ-2345'));
    // The pressed button keeps the keyboard focus through the request (and is now "Show a new code").
    expect((box.getRootNode() as ShadowRoot).activeElement).toBe(show);
    expect(show.textContent).toBe(t.newCode);
    expect(q.getByRole('status').textContent).toBe(format('WXYZ-2345'));
    expect(q.getByText(/^Valid for [45]:\d\d$/)).toBeTruthy();
    await drawn(q.getByRole('img', { name: /WXYZ-2345/ }));

    await userEvent.click(q.getByRole('button', { name: 'Unlink Chrome · Android' }));
    await waitFor(() => expect(q.getAllByRole('listitem')).toHaveLength(1));
    expect(calls).toContain(`unlink ${'b'.repeat(32)}`);
    expect(q.getByRole('status').textContent).toBe('Chrome · Android is no longer linked.');

    await userEvent.click(q.getByRole('button', { name: 'Unlink Chrome · Linux (this device)' }));
    await waitFor(() => q.getByText(t.alone));
    expect(calls).toContain('forget');
    expect(q.getByRole('status').textContent).toBe(t.unlinkedThis);
    // Focus does not fall back to the page: it is on the section's heading.
    expect((box.getRootNode() as ShadowRoot).activeElement?.localName).toBe('h3');
  });

  it('a refused code is shown next to the input; the page gets no error', async () => {
    const { api, calls } = fakeIdentity();
    const { q } = await open(api);
    const errors = vi.spyOn(console, 'error');
    await userEvent.type(q.getByLabelText(t.enter), 'zzzz-zzzz');
    await userEvent.click(q.getByRole('button', { name: t.claim }));
    await waitFor(() => expect(q.getByLabelText(t.enter).getAttribute('aria-invalid')).toBe('true'));
    expect(calls).toContain('claim zzzz-zzzz');
    expect(q.getAllByText(t.badCode).length).toBeGreaterThan(0);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });

  it('a code typed here links this browser; the consent is applied when the preference center closes', async () => {
    const { api, calls } = fakeIdentity({
      claim: async (code, options) => {
        calls.push(`claim ${code} apply=${options?.apply}`);
        return {
          subjectId: 's_1',
          consent: { siteId: 'x', deviceId: 'd', subjectId: 's_1', decision: null },
        };
      },
    });
    const { q } = await open(api);
    const input = q.getByLabelText(t.enter) as HTMLInputElement;
    await userEvent.type(input, 'abcd-efgh');
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(q.getByRole('status').textContent).toBe(t.claimed));
    expect(input.value).toBe('');
    expect(calls).toContain('claim abcd-efgh apply=false');
    expect(calls).not.toContain('sync');
    r?.unmount();
    r = undefined;
    await waitFor(() => expect(calls).toContain('sync'));
  });

  it('axe-core finds nothing in the dark theme with a code shown', async () => {
    const { api } = fakeIdentity();
    const { q } = await open(api, 'dark');
    await userEvent.click(q.getByRole('button', { name: t.showCode }));
    await drawn(await waitFor(() => q.getByRole('img')));
    expect(await audit(r!.host)).toEqual([]);
  });

  describe('a link opened on the page, asked first', () => {
    const PAIR = { kind: 'pair', code: 'ABCD-EFGH' } as const;
    const question = String(t.askPair).replace('{code}', 'ABCD-EFGH');

    it('the question takes the focus, named and described; Cancel (by keyboard) links nothing', async () => {
      const { api, calls } = fakeIdentity({ question: () => PAIR });
      const { box, q } = await open(api);
      const root = box.getRootNode() as ShadowRoot;
      const group = q.getByRole('group', { name: question });
      expect(group.getAttribute('aria-describedby')).toBe('assenso-ah');
      expect(q.getByText(t.askPairHelp).id).toBe('assenso-ah');
      expect(root.activeElement).toBe(group);
      // Asked, not answered: the server has been asked for the list only.
      expect(calls).toEqual(['devices']);
      await userEvent.keyboard('{Tab}');
      expect(root.activeElement?.textContent).toBe(t.linkIt);
      await userEvent.keyboard('{Tab}');
      expect(root.activeElement?.textContent).toBe(t.cancel);
      await userEvent.keyboard('{Enter}');
      await waitFor(() => expect(q.queryByRole('group')).toBeNull());
      expect(calls).toEqual(['devices', 'answer false']);
      expect(q.getByRole('status').textContent).toBe(t.notLinked);
      expect(root.activeElement?.localName).toBe('h3');
    });

    it('Link and Cancel are equal buttons; Link answers yes, says so and lists the devices again', async () => {
      const { api, calls } = fakeIdentity({ question: () => PAIR });
      const { q } = await open(api);
      const [link, cancel] = within(q.getByRole('group')).getAllByRole('button');
      expect(link!.textContent).toBe(t.linkIt);
      expect(cancel!.className).toBe(link!.className);
      expect(getComputedStyle(cancel!).backgroundColor).toBe(getComputedStyle(link!).backgroundColor);
      expect(cancel!.getBoundingClientRect().height).toBe(link!.getBoundingClientRect().height);
      await userEvent.click(link!);
      await waitFor(() => expect(q.getByRole('status').textContent).toBe(t.claimed));
      expect(q.queryByRole('group')).toBeNull();
      await waitFor(() => expect(calls).toEqual(['devices', 'answer true', 'devices']));
    });

    it('a refused code is said where the question was', async () => {
      const { api } = fakeIdentity({
        question: () => PAIR,
        answer: async () => {
          throw new IdentityError(404, null);
        },
      });
      const { q } = await open(api);
      await userEvent.click(q.getByRole('button', { name: t.linkIt, exact: true }));
      await waitFor(() => expect(q.getByText(t.badCode, { selector: '.nt' })).toBeTruthy());
      expect(q.queryByRole('group')).toBeNull();
      expect(q.getByRole('status').textContent).toBe(t.badCode);
    });

    it('closing the preference center without an answer is Cancel', async () => {
      const { api, calls } = fakeIdentity({ question: () => PAIR });
      await open(api);
      r?.unmount();
      r = undefined;
      expect(calls).toContain('answer false');
      expect(calls).not.toContain('answer true');
    });

    it.each(['light', 'dark'])('axe-core finds nothing with the question shown, %s theme', async (theme) => {
      const { api } = fakeIdentity({ question: () => PAIR });
      const { q } = await open(api, theme);
      expect(q.getByRole('group', { name: question })).toBeTruthy();
      expect(await audit(r!.host)).toEqual([]);
    });

    it('an email link is asked in the page’s language (Italian)', async () => {
      const { api } = fakeIdentity({ question: () => ({ kind: 'email' }) });
      const before = document.documentElement.lang;
      document.documentElement.lang = 'it';
      try {
        const { q } = await open(api);
        const it = devicesMessages('it');
        const group = q.getByRole('group', { name: it.askEmail });
        expect(within(group).getByText(it.askEmailHelp)).toBeTruthy();
        expect(within(group).getByRole('button', { name: 'Collega' })).toBeTruthy();
        expect(within(group).getByRole('button', { name: 'Annulla' })).toBeTruthy();
      } finally {
        document.documentElement.lang = before;
      }
    });
  });

  it('renders nothing when the site has no receipt server', async () => {
    const { api, calls } = fakeIdentity({ enabled: false });
    r = renderer.render(prefs(api));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const el = r.box.querySelector('assenso-devices');
    expect(el).not.toBeNull();
    expect(el?.shadowRoot?.textContent ?? '').toBe('');
    expect(calls).toEqual([]);
  });

  it('closed before the section has loaded: it asks the server nothing', async () => {
    const { api, calls } = fakeIdentity();
    r = renderer.render(prefs(api));
    r.unmount();
    r = undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toEqual([]);
  });

  it('speaks Italian on an Italian page', async () => {
    r?.unmount();
    const { api } = fakeIdentity();
    const before = document.documentElement.lang;
    document.documentElement.lang = 'it';
    try {
      const { q } = await open(api);
      expect(q.getByRole('region', { name: devicesMessages('it').title })).toBeTruthy();
      expect(q.getByRole('button', { name: 'Scollega Chrome · Android' })).toBeTruthy();
    } finally {
      document.documentElement.lang = before;
    }
  });

  it.each([
    ['de', 'Ihre Geräte', 'Trennen: Chrome · Android'],
    ['fr', 'Vos appareils', 'Délier Chrome · Android'],
    ['es', 'Tus dispositivos', 'Desvincular Chrome · Android'],
  ])('speaks %s once its texts have arrived (fetched on first use)', async (lang, title, unlink) => {
    r?.unmount();
    const { api } = fakeIdentity();
    const before = document.documentElement.lang;
    document.documentElement.lang = lang;
    try {
      const { q } = await open(api);
      await waitFor(() => expect(q.getByRole('region', { name: title })).toBeTruthy());
      expect(q.getByRole('button', { name: unlink })).toBeTruthy();
    } finally {
      document.documentElement.lang = before;
    }
  });
});

function format(code: string) {
  return t.codeShown.replace('{code}', code);
}
