// The widget's size budgets (bench/budgets.json) as a test: `npm test` builds dist/ first, this reads it.
// It also keeps README.md honest: the budget table it quotes must be the one budgets.json gives
// (nanostores' size-synced idea), and no other "N kB brotli" figure may appear there.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  budgetsMarkdown,
  DIST,
  kB,
  listFiles,
  measureBudgets,
  readBudgets,
  ROOT,
} from '../../bench/sizes.mjs';

const README = join(ROOT, 'README.md');

/** A Markdown table as rows of trimmed cells: the formatter may pad cells and rulers, the content must match. */
const cells = (table: string) =>
  table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/^-{3,}$/, '---')),
    );

describe('size budgets', () => {
  it('dist/ holds the built widget (npm test runs `vite build` first; alone: `npm run build`)', () => {
    expect(
      existsSync(join(DIST, 'assenso.js')),
      `${join(DIST, 'assenso.js')} missing: run npm run build`,
    ).toBe(true);
  });

  for (const budget of measureBudgets()) {
    it(`${budget.name}: ≤ ${kB(budget.brotli)} brotli`, () => {
      const detail = budget.perFile
        .map((f) => `  ${f.file}: ${f.brotli} B brotli (${f.raw} B raw)`)
        .join('\n');
      expect(budget.perFile.length, `no dist/ file matches ${budget.files.join(', ')}`).toBeGreaterThan(0);
      expect(
        budget.brotliBytes,
        `${budget.name}: ${budget.brotliBytes} B brotli > budget ${budget.brotli} B\n${detail}`,
      ).toBeLessThanOrEqual(budget.brotli);
    });
  }

  it('every file the script tag can load is counted by a budget', () => {
    const counted = new Set(measureBudgets().flatMap((b) => b.perFile.map((f) => f.file)));
    const loadable = listFiles(DIST).filter(
      (f: string) => /\.(js|css)$/.test(f) && /^(assenso\.js|assenso\.css|chunks\/|i18n\/|assets\/)/.test(f),
    );
    expect(loadable.filter((f: string) => !counted.has(f))).toEqual([]);
  });

  it('the initial budget is part of the total one', () => {
    const [initial, total] = measureBudgets();
    for (const f of initial?.perFile ?? []) expect(total?.perFile.map((t) => t.file)).toContain(f.file);
  });
});

describe('README quotes the budgets of bench/budgets.json', () => {
  const readme = readFileSync(README, 'utf8');

  it('contains the generated budget table between <!-- budgets:start --> and <!-- budgets:end -->', () => {
    const block = /<!-- budgets:start -->\n([\s\S]*?)\n<!-- budgets:end -->/.exec(readme)?.[1];
    expect(block, 'README.md has no budgets block').toBeDefined();
    expect(cells(block ?? '')).toEqual(cells(budgetsMarkdown()));
  });

  it('mentions no brotli size other than a budget', () => {
    const allowed = new Set(
      readBudgets().flatMap((b) => [kB(b.brotli), ...(b.target ? [kB(b.target)] : [])]),
    );
    const quoted = [...readme.matchAll(/(\d+(?:\.\d+)?) ?kB brotli/g)].map((m) => `${Number(m[1])} kB`);
    expect(quoted.filter((q) => !allowed.has(q))).toEqual([]);
  });
});
