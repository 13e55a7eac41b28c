import { report } from './events.ts';
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
    // Granted when all its categories are: always when it names none (`security_storage`, by default) or only
    // required ones (granted before any decision too), never when it names one the site does not have (a typo:
    // warned by the delivery chunk).
    const ok = ids.every((id) => cfg.categories.some((c) => c.id === id && (c.required || granted?.[id])));
    out[type as GoogleConsentType] = ok ? 'granted' : 'denied';
  }
  return out;
}

/** The `arguments` object of a call with these values: what `gtag()` puts in the dataLayer. */
function args(..._: unknown[]): IArguments {
  // biome-ignore lint/complexity/noArguments: gtag's contract is the Arguments object
  return arguments;
}

/**
 * Google Consent Mode v2. `gtag()` must push the `arguments` object itself (Google's tags ignore arrays),
 * so the page's own gtag is used when there is one. A page's gtag or dataLayer that throws is reported, never
 * passed on: start-up and decisions go on.
 */
export function createConsentMode(cfg: ResolvedConfig, win: Win = window) {
  const cm = cfg.consentMode;
  const gtag: Gtag = (...a) => {
    try {
      if (win.gtag) win.gtag(...a);
      else {
        win.dataLayer ??= [];
        win.dataLayer.push(args(...a));
      }
    } catch (e) {
      report("the page's gtag() or dataLayer threw", e);
    }
  };
  return {
    /**
     * Before any tag: everything denied (security_storage granted), waiting for our update; then the flags.
     * An async tag runs after the page's inline Google snippet has queued `js`, `config` or `gtm.js`: while
     * Google's tag has not loaded (the dataLayer is still a plain array) the default goes in FRONT of them, where
     * Google's tag reads it first. Once it has loaded, a default is too late for what already ran: said once.
     */
    default() {
      if (!cm) return;
      const first = [
        args('consent', 'default', { ...consentModeState(cfg, null), wait_for_update: cm.waitForUpdate }),
        ...cm.set.map((flag) => args('set', flag, true)),
      ];
      const dl = win.dataLayer;
      if (Array.isArray(dl) && dl.length && dl.push === [].push) dl.unshift(...first);
      else {
        if (dl?.length)
          console.warn(
            "[assenso] Consent Mode: Google's tag ran before the consent default; load assenso.js before it, without async",
          );
        for (const a of first) gtag(...a);
      }
    },
    update(granted: Choices) {
      if (cm) gtag('consent', 'update', consentModeState(cfg, granted));
    },
  };
}
