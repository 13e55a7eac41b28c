// `npm test`: every check the project has, in the order that fails cheapest first, stopping at the first
// failing step with one clear line naming it. CI (`.ci/run`) runs exactly this.
//
//   1. Chromium present (installs Debian's package when root on Debian, else prints the command)
//   2. biome check .            lint + format
//   3. tsc --noEmit -p .        types
//   4. vite build               dist/ (the size check and e2e use it)
//   5. vitest run               unit + integration: node project (protocol, server on PGlite + PostgreSQL)
//                               and browser project (core, ui in Chromium)
//   6. size budgets             test/bench against dist/ and bench/budgets.json
//   7. e2e                      vitest run --config e2e/vitest.config.ts (the demo, the widget, the server)
//
// `--keep-going` runs every step even after a failure and lists all failed steps at the end (still exiting
// non-zero): for a full picture of a broken tree. CI uses the default, fail-fast.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const reports = mkdtempSync(join(tmpdir(), 'assenso-test-'));

/** Vitest writes a JSON report per run so that the last line can count every test of every run. */
function vitest(name, args) {
  const out = join(reports, `${name}.json`);
  return {
    name,
    cmd: bin('vitest'),
    args: ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`],
    report: out,
  };
}

const steps = [
  {
    name: 'lint (biome check .)',
    cmd: bin('biome'),
    args: ['check', '.'],
    hint: 'fix with `npx biome check --write <file>`: Biome lints code and formats Markdown and JSON too',
  },
  { name: 'types (tsc --noEmit -p .)', cmd: bin('tsc'), args: ['--noEmit', '-p', '.'] },
  { name: 'build (vite build)', cmd: bin('vite'), args: ['build'] },
  vitest('unit + integration (vitest run)', ['--exclude', 'test/bench/**']),
  vitest('size budgets (test/bench)', ['--project', 'node', 'test/bench']),
  vitest('e2e (vitest run --config e2e/vitest.config.ts)', ['--config', 'e2e/vitest.config.ts']),
];

const chromium = ensureChromium();
// Children (vitest's browser project, the e2e harness) find the same binary.
const env = { ...process.env, CHROMIUM_PATH: chromium };
console.log(`[assenso test] Chromium: ${chromium}${process.env.CI ? ' (CI)' : ''}`);

const totals = { passed: 0, failed: 0, skipped: 0 };
function count(report) {
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += r.numFailedTests ?? 0;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } catch {
    // A run that crashed before writing its report has already failed its step.
  }
}

const keepGoing = process.argv.includes('--keep-going');
const started = Date.now();
const failures = [];
for (const [i, step] of steps.entries()) {
  const label = `[assenso test] ${i + 1}/${steps.length} ${step.name}`;
  console.log(`\n${label}`);
  const t0 = Date.now();
  const r = spawnSync(step.cmd, step.args, { cwd: root, env, stdio: 'inherit' });
  if (step.report) count(step.report);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit code ${r.status}`;
    failures.push({ label, why, code: r.status || 1, hint: step.hint });
    if (!keepGoing) break;
    console.error(`${label}: FAILED (${why}); --keep-going: next step`);
    continue;
  }
  console.log(`${label}: ok (${secs} s)`);
}
rmSync(reports, { recursive: true, force: true });

const summary = `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`;
if (failures.length) {
  console.error('');
  for (const f of failures) {
    console.error(`${f.label}: FAILED (${f.why})${keepGoing ? '' : '; later steps not run.'}`);
    if (f.hint) console.error(`  ${f.hint}`);
  }
  console.error(`tests: ${summary}`);
  process.exit(failures[0].code);
}
console.log(
  `\n[assenso test] all ${steps.length} steps passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
console.log(`tests: ${summary}`);
