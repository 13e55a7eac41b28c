/**
 * @module
 * `assenso migrate [--config FILE]`: applies pending SQL migrations and exits (serve also does it at start).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';
import type { Command } from './command.ts';

export const command: Command = {
  summary: 'Apply pending database migrations',
  usage: `assenso migrate [--config FILE]

Applies src/server/db/migrations/*.sql not yet applied (PostgreSQL when DATABASE_URL is set, else PGlite).`,
  async run(ctx) {
    const { values } = parseArgs({ args: ctx.argv, options: { config: { type: 'string' } }, strict: true });
    const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
    const opened = openDatabase({ dataDir: config.dataDir, env: ctx.env, poolSize: 1 });
    try {
      const applied = await migrate(opened.db);
      ctx.stdout(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n');
      return 0;
    } finally {
      await opened.close();
    }
  },
};
