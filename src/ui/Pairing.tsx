import type { DevicesMessages } from './devices-i18n.ts';
import { format } from './i18n/messages.ts';
import { defineQr } from './qr.ts';

/** A pairing code being shown. */
export interface ShownCode {
  /** `ABCD-EFGH`. */
  code: string;
  /** What the QR code encodes: this page with `#assenso-pair=<code>`. */
  url: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface PairingProps {
  t: DevicesMessages;
  code: ShownCode | null;
  /** Epoch ms, for the countdown. */
  now: number;
  busy?: boolean;
  onShowCode: () => void;
}

/** `m:ss` of the time left (never negative). */
export function timeLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * "Link another device": a short code and the QR code of the pairing URL (this page with
 * `#assenso-pair=CODE`), with the time left. The QR element has a text alternative (role img); the code is
 * announced by the section's live region when it appears, the countdown is plain text (a live countdown
 * would speak every second).
 */
export function Pairing({ t, code, now, busy, onShowCode }: PairingProps) {
  const live = code && code.expiresAt > now ? code : null;
  if (live) defineQr();
  return (
    <div class="pa">
      <h4 id="assenso-pa">{t.link}</h4>
      <p class="mu">{t.linkHelp}</p>
      {live && (
        <div class="qp">
          <assenso-qr text={live.url} role="img" aria-label={format(t.qr, { code: live.code })} />
          <div>
            <p class="cd">{live.code}</p>
            <p class="mu">{format(t.validFor, { time: timeLeft(live.expiresAt - now) })}</p>
          </div>
        </div>
      )}
      {code && !live && <p class="nt">{t.expired}</p>}
      <button type="button" class="b" aria-disabled={busy ? 'true' : undefined} onClick={onShowCode}>
        {code ? t.newCode : t.showCode}
      </button>
    </div>
  );
}
