/**
 * @module
 * `assenso <command> [options]`. Commands are files in `commands/`, loaded only when run (so `assenso verify`
 * does not load the HTTP server). Add yours with one line in `COMMANDS`.
 */
import type { CliContext, Command } from './commands/command.ts';
import { packageVersion } from './version.ts';

type Registry = Record<string, { summary: string; load: () => Promise<{ command: Command }> }>;

export const COMMANDS: Registry = {
  serve: { summary: 'Run the receipt server', load: () => import('./commands/serve.ts') },
  migrate: { summary: 'Apply pending database migrations', load: () => import('./commands/migrate.ts') },
  'move-to-postgres': {
    summary: 'Move the PGlite data into an empty PostgreSQL database, verified',
    load: () => import('./commands/move-to-postgres.ts'),
  },
  verify: {
    summary: 'Check receipts, Merkle trees and checkpoints',
    load: () => import('./commands/verify.ts'),
  },
  export: {
    summary: 'Export receipts with proofs (NDJSON or CSV) for an auditor',
    load: () => import('./commands/export.ts'),
  },
  'signing-keys': {
    summary: 'List, rotate or retire the receipt signing keys',
    load: () => import('./commands/signing-keys.ts'),
  },
  'admin-keys': {
    summary: 'Create, list, revoke admin API keys',
    load: () => import('./commands/admin-keys.ts'),
  },
  keys: { summary: 'Rotate contact-data encryption keys', load: () => import('./commands/keys.ts') },
  retention: { summary: 'Apply the retention policy now', load: () => import('./commands/retention.ts') },
  'access-log': {
    summary: 'Verify and query the access log',
    load: () => import('./commands/access-log.ts'),
  },
  links: {
    summary: 'Make a person’s email links; rotate the link-signing key',
    load: () => import('./commands/links.ts'),
  },
  renewals: {
    summary: 'List consents expiring by a date, with renewal links',
    load: () => import('./commands/renewals.ts'),
  },
  erasure: { summary: 'Carry out and list erasure requests', load: () => import('./commands/erasure.ts') },
};

/** Errors whose message is the whole story (bad configuration, locked data directory, bad keys): no stack. */
const EXPECTED_ERRORS = new Set([
  'ConfigError',
  'DataDirLockedError',
  'KeyConfigError',
  'UsageError',
  'ContactKeyConfigError',
  'PseudonymSecretError',
  'RetireCurrentKeyError',
  'LinkKeyConfigError',
  'MoveError',
]);

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: assenso <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`assenso <command> --help\` for its options.\n`;
}

/** Runs the CLI; resolves with the process exit code. */
export async function runCli(
  argv: string[],
  ctx: Omit<CliContext, 'argv'> = {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stopSignal: new Promise((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
    }),
  },
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    ctx.stdout(help());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    ctx.stdout(`${packageVersion()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    ctx.stderr(`assenso: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run({ ...ctx, argv: rest });
  } catch (err) {
    const e = err as Error;
    const expected =
      EXPECTED_ERRORS.has(e.name) || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    ctx.stderr(`assenso ${name}: ${expected ? e.message : (e.stack ?? String(e))}\n`);
    if (e.name === 'UsageError' || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      ctx.stderr(`\n${command.usage}\n`);
    return e.name === 'UsageError' || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}
