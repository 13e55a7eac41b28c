import type { Choices, GoogleConsentType, ResolvedConfig } from './types.ts';

type Gtag = (...args: unknown[]) => void;
type Win = Window & { dataLayer?: unknown[]; gtag?: Gtag };

/** Whether the browser sends Global Privacy Control (navigator.globalPrivacyControl, Sec-GPC). */
export const gpcSignal = (nav: Navigator = navigator) =>
  (nav as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;

/** Categories that GPC denies right now (empty when GPC is off or not honoured). */
export const gpcCategories = (cfg: ResolvedConfig, active: boolean) =>
  active && cfg.gpc ? cfg.categories.filter((c) => c.gpc && !c.required).map((c) => c.id) : [];

/** Consent Mode v2 state for the granted categories. */
export function consentModeState(cfg: ResolvedConfig, granted: Choices | null) {
  const out = {} as Record<GoogleConsentType, 'granted' | 'denied'>;
  if (!cfg.consentMode) return out;
  for (const [type, ids] of Object.entries(cfg.consentMode.mapping)) {
    const known = ids.filter((id) => cfg.categories.some((c) => c.id === id));
    const ok =
      type === 'security_storage' && !ids.length
        ? true
        : !!granted && known.length > 0 && known.every((id) => granted[id]);
    out[type as GoogleConsentType] = ok ? 'granted' : 'denied';
  }
  return out;
}

/**
 * Google Consent Mode v2. `gtag()` must push the `arguments` object itself (Google's tags ignore arrays),
 * so the page's own gtag is used when there is one.
 */
export function createConsentMode(cfg: ResolvedConfig, win: Win = window) {
  const cm = cfg.consentMode;
  const gtag: Gtag = (...args) => {
    if (win.gtag) return win.gtag(...args);
    win.dataLayer ??= [];
    (function (this: unknown) {
      // biome-ignore lint/complexity/noArguments: gtag's contract is the Arguments object
      win.dataLayer!.push(arguments);
    }).apply(null, args as []);
  };
  return {
    /** Before any tag: everything denied (security_storage granted), waiting for our update; then the flags. */
    default() {
      if (!cm) return;
      gtag('consent', 'default', { ...consentModeState(cfg, null), wait_for_update: cm.waitForUpdate });
      for (const flag of cm.set) gtag('set', flag, true);
    },
    update(granted: Choices) {
      if (cm) gtag('consent', 'update', consentModeState(cfg, granted));
    },
  };
}
