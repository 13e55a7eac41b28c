/**
 * Focus handling of the widget's dialogs. Modal views (the preference center, the banner in modal layout)
 * are `<dialog>` elements shown with showModal(): in the top layer above the page's own modal dialogs (a menu
 * drawer, a newsletter pop-up), which would otherwise leave them inert, and the page behind made inert.
 * Focus is moved in and trapped (Tab and Shift+Tab cycle inside; focus wandering to the page is pulled
 * back); when the widget closes, focus returns to where it was before the widget moved it in. A non-modal
 * banner shown on page load does not steal focus (it is first in the tab order instead), so deciding there
 * leaves focus and scroll where the page has them.
 */
export interface FocusTrap {
  /** Called after each render that changed the view: the dialog now shown (or null) and whether modal. */
  show(dialog: HTMLElement | null, modal: boolean, focus: string | null): void;
  /** The host was put back into the page (which replaced its <body>): a modal view takes focus again. */
  back(): void;
  release(): void;
}

/** On <html> while a non-modal banner is shown: scroll-padding-bottom, and the room to scroll the page's end to. */
const PADS = ['scroll-padding-bottom', 'margin-bottom'] as const;
const FOCUSABLE = 'a[href],button:not(:disabled),summary,input:not(:disabled),[tabindex]';

/**
 * `closeRequest` is called when the browser closed the modal dialog by itself (a close request that is no key
 * press: Android's back button, `requestClose()`).
 */
export function createFocusTrap(root: ShadowRoot, host: HTMLElement, closeRequest: () => void): FocusTrap {
  let dialog: HTMLElement | null = null;
  let modal = false;
  let restore: HTMLElement | null = null;

  const focusables = (): HTMLElement[] =>
    dialog
      ? [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
          (el) => el.tabIndex >= 0 && el.getClientRects().length > 0,
        )
      : [];

  /** Shows the modal view (a <dialog>) modal, again when the page put the host back. */
  const showModal = () => {
    const d = dialog as HTMLDialogElement;
    if (modal && !d.matches(':modal'))
      try {
        // Rendered open (so that it shows without us too): the open non-modal dialog must close first.
        d.close();
        d.showModal();
      } catch {}
  };

  const onKey = (event: KeyboardEvent) => {
    // Escape is no close request of the browser's (which would close the dialog behind the view's back): the
    // preference center handles it itself; the modal banner must be answered (its × is the way out).
    if (modal && event.key === 'Escape') event.preventDefault();
    if (!modal || event.key !== 'Tab') return;
    const all = focusables();
    const active = root.activeElement;
    const edge = event.shiftKey ? all[0] : all.at(-1);
    if (active === edge || active === dialog || !active || !dialog?.contains(active)) {
      event.preventDefault();
      (event.shiftKey ? all.at(-1) : all[0])?.focus();
    }
  };
  // Focus that leaves a modal dialog for the page (a click on the page behind, assistive tech) comes back.
  const onFocusIn = (event: FocusEvent) => {
    if (modal && event.target !== host) focusables()[0]?.focus();
  };
  // A click on the backdrop (whose target is the dialog, as for its padding) would move focus away from where the
  // visitor was: it stays.
  const onDown = (event: Event) => {
    if (modal && (event.target === dialog || !dialog?.contains(event.target as Node))) event.preventDefault();
  };
  // A non-modal banner sits at the bottom, over the page: while it is shown the page keeps its height clear when
  // it scrolls a focused element into view (WCAG 2.4.11), and has that much room below its end (scroll padding
  // cannot scroll past it: a footer's links stayed under the banner). Through the CSSOM (strict CSP); the page's
  // own values of the inline style come back when it goes.
  const html = document.documentElement.style;
  let page: string[] | null = null;
  /** The page's own margin-bottom, to which the banner's height is added. */
  let base = '';
  const pad = new ResizeObserver(() => {
    if (dialog) {
      const h = `${innerHeight - dialog.getBoundingClientRect().top}px`;
      html.setProperty(PADS[0], h);
      if (base) html.setProperty(PADS[1], `calc(${base} + ${h})`);
    }
  });
  const unpad = () => {
    pad.disconnect();
    page?.forEach((v, i) => {
      html.setProperty(PADS[i]!, v);
    });
    page = null;
  };
  /** The page's "Cookie settings" links, and the place among them of the one focus was on. */
  const links = () => [...document.querySelectorAll<HTMLElement>('[data-assenso-open]')];
  let at = -1;
  /**
   * Where focus goes back to: where it was, or, when the page re-rendered the "Cookie settings" link it was on (a
   * framework's new node), the page's link in its place now.
   */
  const back = () => (restore?.isConnected ? restore : restore && links()[at]);
  // `close` does not bubble: heard while it goes down. Our own close() before showModal() is heard when the
  // dialog is open again, and ignored. What stays (the modal banner, which must be answered) is shown again,
  // non-modal: shown modal again, it would catch Android's back button at every press, and the visitor could
  // never leave the page.
  const onClose = (event: Event) => {
    if (modal && event.target === dialog && !(dialog as HTMLDialogElement).open) {
      closeRequest();
      try {
        (dialog as HTMLDialogElement).show();
        // What is shown now: the page is no longer inert, and focus is free to go there.
        modal = false;
      } catch {}
    }
  };
  root.addEventListener('keydown', onKey as EventListener);
  root.addEventListener('mousedown', onDown);
  root.addEventListener('close', onClose, true);
  document.addEventListener('focusin', onFocusIn);

  return {
    show(next, nextModal, focus) {
      dialog = next;
      modal = nextModal;
      unpad();
      if (next && !modal) {
        page = PADS.map((p) => html.getPropertyValue(p));
        // From the next task on, not in the frame that first shows the banner (its measure and the style change
        // on <html> would add a style and layout pass to it); nobody has pressed Tab by then.
        setTimeout(() => {
          if (dialog === next && !modal) {
            const root = document.documentElement;
            // Only on a page that scrolls already: on one that fits, the room would bring a scrollbar, and the
            // whole page would move (a layout shift).
            base = root.scrollHeight > innerHeight ? getComputedStyle(root).marginBottom : '';
            pad.observe(next);
          }
        });
      }
      if (next) {
        let target = focus ? next.querySelector<HTMLElement>(focus) : nextModal ? focusables()[0] : null;
        // Back to a non-modal banner from a view the page opened (its "Cookie settings" link): focus goes back
        // there, not into the banner.
        const to = focus && !nextModal && restore !== host && restore !== document.body && back();
        if (to) [target, restore] = [to, null];
        // Remembered only when focus comes from the page: moving between the widget's own views keeps it.
        if (target && !root.activeElement) {
          restore = document.activeElement as HTMLElement | null;
          at = links().indexOf(restore!);
        }
        showModal();
        target?.focus();
      } else {
        // The dialog is gone by now, and focus that was in it has fallen to <body>: only then is it given
        // back (focus the visitor has put in the page since stays there). An element that has left the page
        // ignores focus().
        if (document.activeElement === document.body) back()?.focus();
        restore = null;
      }
    },
    back() {
      // Out of the page, the dialog left the top layer (open, but modal no more), and focus that was in it is on
      // <body> now: out of the dialog and of its Escape.
      showModal();
      if (modal && !root.activeElement) focusables()[0]?.focus();
    },
    release() {
      unpad();
      root.removeEventListener('keydown', onKey as EventListener);
      root.removeEventListener('mousedown', onDown);
      root.removeEventListener('close', onClose, true);
      document.removeEventListener('focusin', onFocusIn);
    },
  };
}
