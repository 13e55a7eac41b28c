// README.md must stay true: the quick start is exactly the two commands the issue promises, every npm script
// and environment variable it names exists, and every relative link points at a file of the repository.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../bench/sizes.mjs';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('README.md', () => {
  it('quick start: `npm ci && npm start` and `npm test`, nothing else to set up', () => {
    const quick = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const block = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? '';
    const commands = block
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
    expect(pkg.scripts.start).toBe('node scripts/start.mjs');
    expect(pkg.scripts.test).toBe('node scripts/test.mjs');
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
    for (const name of named) expect(pkg.scripts, `npm run ${name}`).toHaveProperty([name]);
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((href) => !/^[a-z]+:/i.test(href));
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((href) => !existsSync(join(ROOT, href)))).toEqual([]);
  });

  it('names the environment variables npm start reads', () => {
    const start = readFileSync(join(ROOT, 'scripts', 'start.mjs'), 'utf8');
    for (const name of ['PORT', 'DEMO_PORT', 'HOST']) {
      expect(start).toContain(`process.env.${name}`);
      expect(readme).toContain(`\`${name}\``);
    }
  });
});
