import { render as preactRender } from '@testing-library/preact';
import type { ComponentChildren } from 'preact';
import { vi } from 'vitest';
import type { NoticeCategory } from '../../src/protocol/notice.ts';
import { initialDraft } from '../../src/ui/draft.ts';
import { en } from '../../src/ui/i18n/en.ts';
import type { PreferenceCenterProps } from '../../src/ui/PreferenceCenter.tsx';
import { render as domRender } from '../../src/ui/dom/render.ts';
import { css as prefsCss } from '../../src/ui/PreferenceCenter.tsx';
import { addStyles, adoptStyles } from '../../src/ui/styles.ts';

/**
 * The components run under two renderers: real Preact (what the server-rendered pages and bundlers use)
 * and the widget's own DOM patcher (what the script-tag bundle ships). Every component test runs on both,
 * inside a styled open shadow root as in the page.
 */
export interface Rendered {
  /** The render target inside the shadow root. */
  box: HTMLElement;
  root: ShadowRoot;
  host: HTMLElement;
  rerender(vnode: ComponentChildren): void;
  unmount(): void;
}

export interface Renderer {
  name: string;
  render(vnode: ComponentChildren, options?: { theme?: string }): Rendered;
}

function shell(theme = 'light') {
  const host = document.createElement('assenso-consent');
  const root = host.attachShadow({ mode: 'open' });
  adoptStyles(root, {});
  addStyles(root, prefsCss);
  const box = document.createElement('div');
  box.className = `r ${theme}`;
  root.append(box);
  document.body.append(host);
  return { host, root, box };
}

export const renderers: Renderer[] = [
  {
    name: 'preact',
    render(vnode, options) {
      const { host, root, box } = shell(options?.theme);
      const r = preactRender(vnode as preact.VNode, { container: box, baseElement: box });
      return {
        host,
        root,
        box,
        rerender: (next) => r.rerender(next as preact.VNode),
        unmount: () => {
          r.unmount();
          host.remove();
        },
      };
    },
  },
  {
    name: 'dom',
    render(vnode, options) {
      const { host, root, box } = shell(options?.theme);
      domRender(vnode, box);
      return {
        host,
        root,
        box,
        rerender: (next) => domRender(next, box),
        unmount: () => host.remove(),
      };
    },
  },
];

/** The preference center's props for `categories`, every callback a spy, with `over` on top. */
export function prefsProps(
  categories: NoticeCategory[],
  over: Partial<PreferenceCenterProps> = {},
): PreferenceCenterProps {
  return {
    m: en,
    categories,
    draft: initialDraft(categories, null),
    onCategory: vi.fn(),
    onService: vi.fn(),
    onSave: vi.fn(),
    onAcceptAll: vi.fn(),
    onRejectAll: vi.fn(),
    onClose: vi.fn(),
    ...over,
  };
}
