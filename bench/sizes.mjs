// Bytes of the built widget: raw, gzip (level 9) and brotli (quality 11), per file and per budget of
// bench/budgets.json. Shared by the size check in `npm test` (test/bench/size.test.ts) and `npm run bench`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const BUDGETS_FILE = join(ROOT, 'bench', 'budgets.json');

/** @returns {{ id: string, name: string, files: string[], brotli: number, target?: number }[]} */
export function readBudgets() {
  return JSON.parse(readFileSync(BUDGETS_FILE, 'utf8')).budgets;
}

/** `*` = any characters but '/', `**` = anything (including '/'), everything else literal. */
export function globToRegExp(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else out.push(p);
  }
  return out;
}

/** Every file under `dir`, as '/'-separated paths relative to it. */
export function listFiles(dir = DIST) {
  return walk(dir)
    .map((p) => relative(dir, p).split(sep).join('/'))
    .sort();
}

/** Raw, gzip and brotli bytes of one file. */
export function measure(file) {
  const buf = readFileSync(file);
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
      },
    }).length,
  };
}

/**
 * @typedef {{ file: string, raw: number, gzip: number, brotli: number }} FileSize
 * @typedef {{ id: string, name: string, files: string[], brotli: number, target?: number, perFile: FileSize[], raw: number,
 *   gzip: number, brotliBytes: number }} MeasuredBudget
 */

/**
 * Each budget with the dist/ files it covers and their sizes. Files are counted separately (each is its own
 * HTTP response, compressed on its own), so a budget's bytes are the sum over its files.
 */
/** @returns {MeasuredBudget[]} */
export function measureBudgets(dir = DIST, budgets = readBudgets()) {
  const files = listFiles(dir);
  return budgets.map((b) => {
    const res = b.files.map(globToRegExp);
    const covered = files.filter((f) => res.some((re) => re.test(f)));
    /** @type {FileSize[]} */
    const perFile = covered.map((f) => ({ file: f, ...measure(join(dir, f)) }));
    /** @param {'raw' | 'gzip' | 'brotli'} k */
    const sum = (k) => perFile.reduce((n, f) => n + f[k], 0);
    return { ...b, perFile, raw: sum('raw'), gzip: sum('gzip'), brotliBytes: sum('brotli') };
  });
}

/** "8 kB" for 8000, "13.5 kB" for 13500: how README.md and docs quote a budget. */
/** Bytes as kB, to the 10 bytes (a ceiling of 12,940 B must not read as 12.9 kB). */
export function kB(bytes) {
  return `${Number((bytes / 1000).toFixed(2))} kB`;
}

/** The budget table README.md must contain verbatim between its `budgets` markers. */
export function budgetsMarkdown(budgets = readBudgets()) {
  const rows = budgets.map(
    (b) =>
      `| ${b.name} | ≤ ${kB(b.brotli)} brotli | ${b.target ? `≤ ${kB(b.target)} brotli` : 'none (the ceiling)'} |`,
  );
  return ['| Widget bytes | Enforced ceiling | Target (not yet met) |', '| --- | --- | --- |', ...rows].join(
    '\n',
  );
}
