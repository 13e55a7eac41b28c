/**
 * @module
 * What `serve` starts for email links: the link-signing keys and the webhook worker (one per instance; the
 * queue's leases let several instances share the work, in order per person).
 */
import type { AppDeps } from '../deps.ts';
import { loadLinkKeys } from './link-keys.ts';
import type { EmailSite } from './config-schema.ts';
import { createWebhookWorker } from './webhook-worker.ts';

/** Loads the link keys into `deps` and starts the webhook worker; `stop()` waits for its current round. */
export async function startEmail(
  deps: AppDeps,
  opts: { env: Record<string, string | undefined>; dataDir: string; intervalMs?: number },
): Promise<{ stop(): Promise<void> }> {
  deps.linkKeys = await loadLinkKeys({ env: opts.env, dataDir: opts.dataDir, now: deps.now });
  const sites = () => deps.config.sites as unknown as EmailSite[];
  if (!sites().some((s) => s.webhooks.length > 0)) return { stop: async () => {} };
  const worker = createWebhookWorker({ db: deps.db, sites, now: deps.now, logger: deps.logger });
  return { stop: worker.start(opts.intervalMs ?? 1000) };
}
