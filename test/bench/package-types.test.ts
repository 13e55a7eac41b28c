// The published declarations (dist/types, `vite build`) compile in a project that is not ours: plain tsc, its
// default `skipLibCheck: false`, no Vite declarations. (`./prefs.css?inline` in them failed such a project.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DIST, ROOT } from '../../bench/sizes.mjs';

it("dist/types compiles with tsc's defaults in a consumer project (the ES module example)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'assenso-types-'));
  try {
    writeFileSync(
      join(dir, 'main.ts'),
      `import { attachUi, createConsent, createIdentity, moduleLoaders, resolveConfig } from '${DIST}/types/index.js';
const consent = createConsent({ siteId: 'shop', categories: [{ id: 'necessary', required: true, title: 'N', description: 'N' }] });
consent.start();
const identity = createIdentity(consent);
attachUi(consent, { loaders: moduleLoaders, identity: async () => identity });
resolveConfig({ siteId: 'shop' });
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['es2023', 'dom', 'dom.iterable'],
          types: [],
        },
        files: ['main.ts'],
      }),
    );
    const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
