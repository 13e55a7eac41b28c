/**
 * @module
 * The protection layer inside `assenso serve`: builds the services from the server's dependencies and runs
 * the two schedules, both safe with many instances: the access log's head is signed every minute when it
 * grew (under the log's advisory lock), and the retention policy runs every `retention.intervalMinutes`
 * (one instance at a time; the others skip that turn).
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import { createPseudonymizer, loadPseudonymSecret, type Pseudonymizer } from '../crypto/pseudonym.ts';
import type { Db } from '../db/db.ts';
import type { Keyring } from '../log/keys.ts';
import { loadContactKeys } from './contact-crypto.ts';
import { createProtection, type Protection } from './protection.ts';
import { createRetention } from './retention.ts';

const HEAD_EVERY_MS = 60_000;
/** The first retention run waits a little, so that a fleet restarting together does not all try at once. */
const FIRST_RUN_DELAY_MS = 30_000;

export interface RunningProtection {
  protection: Protection;
  /** Stops the schedules and waits for a run in progress; signs a last head so nothing is left unsigned. */
  stop(): Promise<void>;
}

export async function startProtection(opts: {
  db: Db;
  config: ServerConfig;
  keyring: Keyring;
  now: () => number;
  logger: Logger;
  /** The server's pseudonymizer; loaded from the same secret as identity's when not given. */
  pseudonymizer?: Pseudonymizer;
  env: Record<string, string | undefined>;
  /** Tests turn the timers off. */
  schedules?: boolean;
}): Promise<RunningProtection> {
  const { config, logger } = opts;
  const contactKeys = await loadContactKeys({ env: opts.env, dataDir: config.dataDir });
  if (!contactKeys)
    logger.warn('no contact-data keys (ASSENSO_CONTACT_KEYS): email addresses cannot be stored');
  const pseudonymizer =
    opts.pseudonymizer ??
    createPseudonymizer(await loadPseudonymSecret({ dataDir: config.dataDir, env: opts.env }));
  const protection = createProtection({ ...opts, pseudonymizer, contactKeys });
  const retention = createRetention({
    db: opts.db,
    policy: config.retention,
    accessLog: protection.accessLog,
    now: opts.now,
  });

  let running: Promise<unknown> = Promise.resolve();
  const guarded = (name: string, task: () => Promise<unknown>) => () => {
    running = running.then(task).catch((err) => logger.error({ err }, `${name} failed`));
  };
  const signHead = guarded('access-log head', () => protection.accessLog.signHead());
  const runRetention = guarded('retention run', async () => {
    const run = await retention.run({ trigger: 'schedule' });
    if (run) logger.info({ retentionRun: run.id, results: run.results }, 'retention run');
  });

  const timers: NodeJS.Timeout[] = [];
  if (opts.schedules !== false) {
    timers.push(setInterval(signHead, HEAD_EVERY_MS));
    if (config.retention.enabled) {
      timers.push(setTimeout(runRetention, FIRST_RUN_DELAY_MS));
      timers.push(setInterval(runRetention, config.retention.intervalMinutes * 60_000));
    }
    for (const t of timers) t.unref();
  }
  return {
    protection,
    async stop() {
      for (const t of timers) clearTimeout(t);
      signHead();
      await running;
    },
  };
}
