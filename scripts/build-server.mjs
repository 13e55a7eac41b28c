// Compiles the server (src/server + src/protocol) to lib/ for the published package: `assenso/server` and the
// `assenso` command without tsx. lib/ mirrors src/'s depth, so the paths the server resolves relative to
// its own files (package.json, dist/, migrations, the widget's stylesheets) hold in both.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'lib'), { recursive: true, force: true });
const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.server.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// Files the server reads at run time that tsc does not emit.
const assets = (from, filter) =>
  cpSync(join(root, 'src', from), join(root, 'lib', from), { recursive: true, filter });
assets('server/db/migrations');
assets('ui', (src) => !/\.tsx?$/.test(src));
assets('server/pages', (src) => !/\.tsx?$/.test(src));
console.log('lib/: server compiled');
