// `npm run bench [-- size browser ingest]`: measures, then writes docs/benchmarks.json (the figures) and
// docs/benchmarks.md (the report, made from them). Parts not run keep their previous figures. Not part of
// `npm test`: speed is measured here, never asserted in tests. Needs dist/ (`npm run build`), Chromium, and for
// the PostgreSQL ingest figures the PostgreSQL of the tests (127.0.0.1:5432, or TEST_DATABASE_URL).
// Bounds: BENCH_RUNS samples per page and condition (default 11), BENCH_SECONDS per load run (default 10).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ensureChromium } from '../scripts/chromium.mjs';
import { benchBrowser } from './browser.mjs';
import { benchIngest } from './ingest.mjs';
import { HANDWRITTEN_BYTES } from './pages.mjs';
import { foreignSections, renderReport } from './report.mjs';
import { DIST, listFiles, measure, measureBudgets, ROOT } from './sizes.mjs';

const JSON_OUT = join(ROOT, 'docs', 'benchmarks.json');
const MD_OUT = join(ROOT, 'docs', 'benchmarks.md');
const parts = process.argv.slice(2).length ? process.argv.slice(2) : ['size', 'browser', 'ingest'];
const log = (s) => console.log(s);

if (!existsSync(join(DIST, 'assenso.js'))) {
  console.error('[bench] dist/assenso.js missing: run `npm run build` first.');
  process.exit(1);
}

const previous = existsSync(JSON_OUT) ? JSON.parse(readFileSync(JSON_OUT, 'utf8')) : {};
const chromiumPath = ensureChromium();
const results = {
  ...previous,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    chromium: execFileSync(chromiumPath, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim(),
    loadBefore: loadavg()[0],
  },
};

if (parts.includes('size')) {
  log('[bench] widget bytes');
  results.size = {
    at: new Date().toISOString(),
    files: listFiles(DIST)
      .filter((f) => /\.(m?js|css)$/.test(f) && !/^\d+\.\d+\.\d+\//.test(f)) // not the versioned copy
      .map((f) => ({ file: f, ...measure(join(DIST, f)) })),
    budgets: measureBudgets().map(({ perFile, ...b }) => ({ ...b, files: perFile.map((f) => f.file) })),
    handwrittenBytes: HANDWRITTEN_BYTES,
  };
}
if (parts.includes('browser')) {
  log('[bench] Chromium: first visit, returning visitor');
  const runs = Number(process.env.BENCH_RUNS ?? 11);
  results.browser = { at: new Date().toISOString(), ...(await benchBrowser({ runs, log })) };
}
if (parts.includes('ingest')) {
  log('[bench] receipt-server ingest');
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  results.ingest = { at: new Date().toISOString(), ...(await benchIngest({ seconds, log })) };
}

results.machine.loadAfter = loadavg()[0];
writeFileSync(JSON_OUT, `${JSON.stringify(results, null, 2)}\n`);
const others = existsSync(MD_OUT) ? foreignSections(readFileSync(MD_OUT, 'utf8')) : [];
writeFileSync(MD_OUT, renderReport(results, others));
// The project's one formatter owns every file's layout, generated ones too (`biome check .` runs in npm test).
execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', JSON_OUT, MD_OUT], {
  stdio: 'ignore',
});
log(`[bench] wrote ${MD_OUT} and ${JSON_OUT}`);
