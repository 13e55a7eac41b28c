// `npm start`: the demo shop with the widget and the receipt server, on a fresh machine after `npm ci`.
//   1. builds the widget (vite build) when dist/ is missing or older than its sources;
//   2. starts `assenso serve` on the embedded database (PGlite, ./data) on PORT (8787) with a site `demo` that
//      accepts receipts from the demo's origins;
//   3. serves demo/ on DEMO_PORT (8080), the widget configuration pointed at that server;
//   4. prints both URLs; Ctrl-C (or SIGTERM) stops both.
// HOST (default 127.0.0.1) is where both listen; set HOST=0.0.0.0 to reach them from another machine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createDemoBackend, identitySite } from '../demo/backend.mjs';
import { createDemoServer, DIST_DIR, ROOT } from './demo-server.mjs';

const PORT = Number(process.env.PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 8080);
const HOST = process.env.HOST ?? '127.0.0.1';
const SERVER_BIN = join(ROOT, 'bin', 'assenso.js');
const shown = (port) => `http://${HOST === '0.0.0.0' || HOST === '127.0.0.1' ? 'localhost' : HOST}:${port}`;

/** Newest modification time under `path` (a file or a folder), skipping `skip` folders. */
function newest(path, skip = []) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    if (!skip.includes(p)) max = Math.max(max, newest(p, skip));
  }
  return max;
}

function buildIfStale() {
  const built = join(DIST_DIR, 'assenso.js');
  const sources = Math.max(
    newest(join(ROOT, 'src'), [join(ROOT, 'src', 'server')]),
    newest(join(ROOT, 'vite.config.ts')),
    newest(join(ROOT, 'package-lock.json')),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  console.log(
    `[assenso] ${existsSync(built) ? 'dist/ is older than src/' : 'no dist/'}: building the widget…`,
  );
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[assenso] vite build failed; fix the error above and run npm start again.');
    process.exit(r.status || 1);
  }
}

async function waitHealthy(url, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

buildIfStale();

const demoOrigins = [`http://localhost:${DEMO_PORT}`, `http://127.0.0.1:${DEMO_PORT}`];
if (HOST !== '127.0.0.1' && HOST !== '0.0.0.0') demoOrigins.push(`http://${HOST}:${DEMO_PORT}`);
const serverUrl = shown(PORT);

let server;
if (existsSync(SERVER_BIN)) {
  // The demo site with its identity secret: /account.html signs in through demo/backend.mjs.
  const sites = [identitySite(demoOrigins)];
  server = spawn(process.execPath, [SERVER_BIN, 'serve', '--port', String(PORT), '--host', HOST], {
    cwd: ROOT,
    stdio: 'inherit',
    // The environment's own ASSENSO_SITES wins: a developer may point the demo at other sites.
    env: { ASSENSO_SITES: JSON.stringify(sites), ...process.env, PORT: String(PORT), HOST },
  });
  const local = HOST === '0.0.0.0' ? '127.0.0.1' : HOST;
  if (!(await waitHealthy(`http://${local}:${PORT}`, server))) {
    console.error(`[assenso] the receipt server did not start on port ${PORT} (see its output above).`);
    server.kill('SIGTERM');
    process.exit(1);
  }
} else {
  console.warn('[assenso] bin/assenso.js not found: serving the demo without a receipt server.');
}

const backend = await createDemoBackend();
const demo = createDemoServer(
  server ? { endpoint: serverUrl, handle: backend.handle } : { handle: backend.handle },
);
try {
  await demo.listen(DEMO_PORT, HOST);
} catch (err) {
  console.error(`[assenso] cannot serve the demo on ${HOST}:${DEMO_PORT}: ${err.message} (set DEMO_PORT).`);
  server?.kill('SIGTERM');
  process.exit(1);
}

console.log('');
console.log(`  Demo shop:       ${shown(DEMO_PORT)}/`);
if (server) console.log(`  Receipt server:  ${serverUrl}  (site "demo", data in ./data)`);
console.log('  Ctrl-C stops everything.');
console.log('');

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n[assenso] ${signal}: stopping…`);
  await demo.close();
  if (!server || server.exitCode !== null || server.signalCode !== null) process.exit(0);
  const killer = setTimeout(() => server.kill('SIGKILL'), 5000);
  server.once('exit', () => {
    clearTimeout(killer);
    process.exit(0);
  });
  server.kill('SIGTERM');
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
server?.on('exit', (code, signal) => {
  if (stopping) return;
  console.error(`[assenso] the receipt server exited (${signal ?? `code ${code}`}); stopping the demo.`);
  demo.close().then(() => process.exit(code || 1));
});
