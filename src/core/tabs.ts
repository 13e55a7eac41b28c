import type { Decision } from './types.ts';

/**
 * A reset says when it was made (`at`): a tab whose own decision is as new or newer keeps it (consent.ts). A
 * decision `old` answers an older policy and left the newer one in force: only the tabs on its revision take it.
 */
export type TabMessage =
  | { type: 'decision'; decision: Decision; old?: boolean }
  | { type: 'reset'; at: number };

/** Tells the other tabs of the site about a decision (BroadcastChannel); absent channel: a no-op. */
export function createTabs(name: string, receive: (m: TabMessage) => void) {
  let bc: BroadcastChannel | undefined;
  try {
    bc = new BroadcastChannel(name);
    bc.onmessage = (e) => receive(e.data);
  } catch {}
  return {
    post(m: TabMessage) {
      try {
        bc?.postMessage(m);
      } catch {}
    },
    close: () => bc?.close(),
  };
}
