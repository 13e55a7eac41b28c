import type { ComponentChildren } from 'preact';
import type { BannerMessages } from './i18n/messages.ts';
import { safeUrl } from './url.ts';

export type Layout = 'bar' | 'box' | 'modal';

export interface BannerProps {
  /** Texts in the chosen language (catalog merged with the site's own texts). */
  m: BannerMessages;
  layout: Layout;
  /** Why the banner is shown again and whether GPC was honoured: one sentence each (text, or parts), shown first. */
  notices?: ComponentChildren[];
  /** The site's privacy policy; rendered as a link only when http(s) or relative. */
  privacyUrl?: string;
  onAcceptAll: () => void;
  onRejectAll: () => void;
  onCustomise: () => void;
  /** The × button: keeps only the required category (Garante 2021: closing is not consent). */
  onClose: () => void;
}

/**
 * The first layer. Accept all, Reject all and Customise are the same element with the same class: equal
 * prominence, one action each. Every string is a text child, never markup.
 */
export function Banner({ m, layout, notices = [], privacyUrl, ...on }: BannerProps) {
  const modal = layout === 'modal';
  const href = safeUrl(privacyUrl);
  // Modal: a <dialog>, rendered open and shown modal by the mount layer (focus.ts), which also adds the backdrop.
  const Tag = modal ? 'dialog' : 'div';
  return (
    <Tag
      open={modal || undefined}
      class={`bn ${layout}`}
      role="dialog"
      aria-modal={modal || undefined}
      // Modal: a click on its text focuses it, not <body> (focus stays in the dialog, as the trap wants).
      tabIndex={modal ? -1 : undefined}
      aria-labelledby="assenso-bt"
      // Why it is back (and what failed) first: a screen reader says it with the dialog, as it is seen first.
      aria-describedby={[...notices.map((_, i) => `assenso-bn${i}`), 'assenso-bd'].join(' ')}
    >
      <button type="button" class="x" aria-label={m.closeBanner} onClick={on.onClose}>
        ×
      </button>
      <h2 id="assenso-bt">{m.bannerTitle}</h2>
      {notices.map((n, i) => (
        <p class="nt" id={`assenso-bn${i}`}>
          {n}
        </p>
      ))}
      <p id="assenso-bd">
        {m.bannerText}
        {href && ' '}
        {href && (
          <a href={href} target="_blank" rel="noopener noreferrer">
            {m.privacyPolicy}
          </a>
        )}
      </p>
      <div class="bs">
        <button type="button" class="b" onClick={on.onRejectAll}>
          {m.rejectAll}
        </button>
        <button type="button" class="b" onClick={on.onCustomise}>
          {m.customise}
        </button>
        <button type="button" class="b" onClick={on.onAcceptAll}>
          {m.acceptAll}
        </button>
      </div>
    </Tag>
  );
}
