#!/usr/bin/env node
// The `assenso` command. In a checkout (src/ present) it runs the TypeScript sources through tsx's ESM loader,
// so it never runs a stale build; the published package (no src/) runs the compiled lib/ (`npm run build`).
import { existsSync } from 'node:fs';

const source = new URL('../src/server/cli.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../lib/server/cli.js', import.meta.url).href);
}
process.exitCode = await cli.runCli(process.argv.slice(2));
