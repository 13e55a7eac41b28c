/**
 * What is needed only once a decision is made or receipts are pending (receipts, outbox, transport), the
 * revocation clean-up of cookies and storage, the wording of configuration warnings and the placeholders of
 * gated iframes: loaded with a
 * dynamic import when the browser is idle after start-up (a separate chunk in module builds), so it does not
 * weigh on the time to banner.
 */
import { crossCheck, explain } from './config-fixes.ts';
import type { Issue } from './config.ts';
import type { Job } from './consent.ts';
import { report } from './events.ts';
import { createOutbox, type OutboxOptions } from './outbox.ts';
import { noticeOf } from './notice.ts';
import { buildReceipt } from './receipt.ts';
import { createTransport } from './transport.ts';
import type { ConsentDeps, ResolvedConfig } from './types.ts';

export { clearServiceData } from './clear.ts';
export { noticeOf };
export { fillPlaceholder } from './placeholder.ts';

/**
 * One console warning per bad configuration key: those found at start-up, then the cross-checks, which read
 * the configuration as the page gave it (`raw`) for keys that are no setting.
 */
export const warnIssues = (issues: Issue[], cfg: ResolvedConfig, raw: unknown) => {
  for (const i of [...issues, ...crossCheck(cfg, raw)]) console.warn(explain(i));
};

/** The site's outbox: sent to its receipt server, or kept on the device when there is no endpoint. */
export const openOutbox = (
  cfg: ResolvedConfig,
  deps: ConsentDeps,
  o: Pick<OutboxOptions, 'store' | 'clock' | 'emit'>,
) =>
  createOutbox({
    ...o,
    send: cfg.endpoint
      ? createTransport(cfg.endpoint, deps.fetch ?? fetch.bind(globalThis), o.clock.now)
      : null,
    random: deps.random ?? Math.random,
    lock: `assenso-outbox:${cfg.siteId}`,
    locks: globalThis.navigator?.locks,
  });

/** Builds the receipts of decisions kept for later into the outbox, in decision order. */
export async function addReceipts(
  jobs: Job[],
  outbox: ReturnType<typeof createOutbox>,
  cfg: ResolvedConfig,
  emit: OutboxOptions['emit'],
) {
  for (const x of jobs)
    try {
      // The notice of the page that decided: its revision and categories, whichever page makes the receipt.
      const then = { ...cfg, revision: x.d.revision, categories: x.cats ?? cfg.categories };
      await outbox.add(await buildReceipt(x.d, cfg.siteId, noticeOf(then, x.notice), x.last));
    } catch (error) {
      // No receipt (e.g. no crypto.subtle outside a secure context): the decision still holds.
      report('receipt could not be built', error);
      emit('error', { where: 'receipt', error });
    }
}
