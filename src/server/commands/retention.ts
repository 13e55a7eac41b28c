/**
 * @module
 * `assenso retention run|runs`: applies the retention policy (config key `retention`) now, and lists runs.
 */
import { parseArgs } from 'node:util';
import { iso, openProtectionCli, table } from '../protection/cli-support.ts';
import { createRetention, listRetentionRuns, type RetentionRun } from '../protection/retention.ts';
import { RETENTION_KINDS } from '../protection/retention-policy.ts';
import { type Command, UsageError } from './command.ts';

function describeRun(run: RetentionRun): string {
  const rows = RETENTION_KINDS.map((kind) => {
    const days = run.policy[kind];
    const done = run.results[kind];
    return [kind, days === null ? 'kept' : `${days} days`, done === undefined ? '-' : String(done)];
  });
  const head = `Retention run ${run.id} (${run.trigger}${run.dryRun ? ', dry run: nothing removed' : ''}) at ${iso(run.startedAt)}\n\n`;
  return head + table([['KIND', 'POLICY', run.dryRun ? 'WOULD REMOVE' : 'REMOVED'], ...rows]);
}

export const command: Command = {
  summary: 'Apply the retention policy now (the server also runs it on a schedule); list past runs',
  usage: `assenso retention run [--dry-run] [--json]
assenso retention runs [--limit N] [--json]

  run        removes what the policy (config key "retention", docs/security.md) says is due, in one transaction,
             and records the run; a run already in progress elsewhere makes this one stop (exit 3)
  --dry-run  counts what would be removed, removes nothing (the run is still recorded, marked dry)
  runs       the latest runs, newest first
  --config FILE as for serve. With PGlite, run these while the server is stopped.`,
  async run(ctx) {
    const [action, ...rest] = ctx.argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        'dry-run': { type: 'boolean' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
      strict: true,
    });
    if (action !== 'run' && action !== 'runs') throw new UsageError('expected run or runs');
    const cli = await openProtectionCli(ctx, values.config);
    try {
      if (action === 'runs') {
        const runs = await listRetentionRuns(cli.db, Number(values.limit ?? 20) || 20);
        ctx.stdout(values.json ? `${JSON.stringify(runs)}\n` : runs.map(describeRun).join('\n'));
        return 0;
      }
      const retention = createRetention({
        db: cli.db,
        policy: cli.config.retention,
        accessLog: cli.protection.accessLog,
      });
      const run = await retention.run({ trigger: 'cli', dryRun: values['dry-run'] ?? false });
      if (!run) {
        ctx.stderr('assenso retention: another instance is running the policy right now\n');
        return 3;
      }
      ctx.stdout(values.json ? `${JSON.stringify(run)}\n` : describeRun(run));
      return 0;
    } finally {
      await cli.close();
    }
  },
};
