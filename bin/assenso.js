#!/usr/bin/env node
// The `assenso` command. Runs the compiled server when a build exists (dist/server/cli.js), else the
// TypeScript sources directly through tsx's ESM loader (a runtime dependency for that reason).
import { existsSync } from 'node:fs';

const built = new URL('../dist/server/cli.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/server/cli.ts', import.meta.url).href);
}
process.exitCode = await cli.runCli(process.argv.slice(2));
