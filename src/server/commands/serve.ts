/**
 * @module
 * `assenso serve [--port N] [--host H] [--config FILE]`: migrates the database, then serves the API and the
 * widget until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { startServer } from '../main.ts';
import { type Command, UsageError } from './command.ts';

const DEFAULT_PORT = 8787;

export function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`invalid port: ${text}`);
  return port;
}

export const command: Command = {
  summary: 'Run the receipt server (migrates the database first)',
  usage: `assenso serve [--port N] [--host H] [--config FILE]

  --port    port to listen on (env PORT, default ${DEFAULT_PORT}; 0 picks a free port)
  --host    interface to listen on (env HOST, default 127.0.0.1; 0.0.0.0 for all, e.g. in a container)
  --config  configuration file (env ASSENSO_CONFIG, default ./assenso.config.json when present)

Storage: PostgreSQL when DATABASE_URL is set, else PGlite under <dataDir>/pglite (one server per directory).`,
  async run(ctx) {
    const { values } = parseArgs({
      args: ctx.argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' } },
      strict: true,
    });
    const port = parsePort(values.port ?? ctx.env.PORT, DEFAULT_PORT);
    const host = values.host ?? ctx.env.HOST ?? '127.0.0.1';
    const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
    const server = await startServer({ config, env: ctx.env, port, host });
    const signal = await ctx.stopSignal;
    server.deps.logger.info({ signal }, 'stopping');
    await server.close();
    return 0;
  },
};
