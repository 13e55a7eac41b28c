import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Features } from 'lightningcss';
import { minify } from 'terser';
import { build, defineConfig, type InlineConfig, type Plugin } from 'vite';
import { pagesBuild } from './src/server/pages/build.ts';

/**
 * `vite build` writes the widget to dist/:
 *
 *   assenso.mjs + esm/*.js    ES module entry (src/index.ts) for bundlers; its chunks are theirs to split
 *   types/                    declarations of the ES module entry
 *   assenso.js                the script-tag IIFE (src/embed.ts): core + banner + it/en, nothing else
 *   chunks/prefs.js           the preference center, fetched on first open
 *   chunks/devices.js         its "Your devices" section, fetched only on sites with a receipt server, and
 *   chunks/devices-{de,fr,es}.js  the section's other languages, fetched when it speaks them
 *   chunks/delivery.js        receipts, outbox and transport, fetched after start-up
 *   chunks/identity.js        identity linking and email links, fetched when used
 *   chunks/qr-encode.js       the pairing QR code's encoder, fetched when a code is shown
 *   i18n/{it,en}-prefs.js     the preference center texts of the built-in languages, fetched after the banner
 *   i18n/{de,fr,es}.js        the other catalogs, fetched when chosen
 *   <version>/…               the same script-tag files under a versioned path, for SRI pinning
 *   sri.json                  `integrity` of the versioned assenso.js (sha384)
 *
 * The components are Preact-compatible JSX but the widget ships without Preact: `preact/jsx-runtime` is
 * aliased to src/ui/dom/jsx-runtime.ts and src/ui/dom/render.ts patches the DOM (see there why).
 */
const root = fileURLToPath(new URL('.', import.meta.url));
const dist = `${root}dist`;
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
const src = (p: string) => `${root}src/${p}`;

const widget = {
  root,
  logLevel: 'warn',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { 'preact/jsx-runtime': src('ui/dom/jsx-runtime.ts') } },
  define: { 'process.env.NODE_ENV': '"production"' },
  // Lightning CSS gives every `color-scheme` rule custom properties (`--lightningcss-light`, `-dark`) for its
  // light-dark() fallback; no stylesheet of ours uses light-dark(): 27 B brotli of assenso.js for nothing.
  css: { lightningcss: { exclude: Features.LightDark } },
} satisfies InlineConfig;

/** The script-tag files: the IIFE, then its lazy chunks as standalone ES modules, then the versioned copy. */
function scriptTagBuild(): Plugin {
  return {
    name: 'assenso-script-tag',
    apply: 'build',
    async closeBundle() {
      await build({
        ...widget,
        configFile: false,
        build: {
          outDir: dist,
          emptyOutDir: false,
          // Evergreen browsers only (docs/embedding.md): ES2022 needs no down-levelling helpers.
          target: 'es2022',
          lib: {
            entry: src('embed.ts'),
            formats: ['iife'],
            name: 'assensoEmbed',
            fileName: () => 'assenso.js',
          },
        },
      });
      await build({
        ...widget,
        configFile: false,
        build: {
          outDir: dist,
          emptyOutDir: false,
          target: 'es2022',
          lib: {
            entry: {
              'chunks/prefs': src('ui/PreferenceCenter.tsx'),
              'chunks/devices': src('ui/devices-section.tsx'),
              'chunks/identity': src('core/identity-chunk.ts'),
              'chunks/delivery': src('core/delivery.ts'),
              'i18n/it-prefs': src('ui/i18n/it-prefs.ts'),
              'i18n/en-prefs': src('ui/i18n/en-prefs.ts'),
              'i18n/de': src('ui/i18n/de.ts'),
              'i18n/fr': src('ui/i18n/fr.ts'),
              'i18n/es': src('ui/i18n/es.ts'),
            },
            formats: ['es'],
            fileName: (_format, name) => `${name}.js`,
          },
          // Vite keeps whitespace and comments in `es` libraries (for bundlers); these chunks go to browsers
          // as they are, so they are minified fully like assenso.js (about 1.3 kB brotli less in all).
          rolldownOptions: {
            // What the preference center and its devices section share (the JSX factory, format()) stays in
            // chunks/prefs.js, which chunks/devices.js imports: devices.js is only ever fetched by prefs.js, so
            // that import costs no request, where a shared chunk would cost one more in a row on every first
            // opening of the preference center.
            preserveEntrySignatures: 'allow-extension',
            output: {
              chunkFileNames: 'chunks/[name].js',
              minify: true,
              comments: false,
              codeSplitting: {
                groups: [
                  {
                    name: 'prefs',
                    test: /src\/ui\/(PreferenceCenter\.tsx|dom\/jsx-runtime\.ts|i18n\/messages\.ts)$/,
                  },
                ],
              },
            },
          },
        },
      });
      // A second minifier over the script-tag files: terser (3 compress passes, no unsafe transforms) finds what
      // Rolldown's minifier leaves: 95 B brotli of assenso.js (0.8%), 170 B over assenso.js and chunks/.
      for (const file of ['assenso.js', ...readdirSync(`${dist}/chunks`).map((f) => `chunks/${f}`)]) {
        const path = `${dist}/${file}`;
        const out = await minify(readFileSync(path, 'utf8'), {
          module: file !== 'assenso.js',
          ecma: 2020,
          compress: { passes: 3 },
          format: { comments: false },
        });
        writeFileSync(path, out.code!);
      }
      // V8's explicit compile hint (Chromium 136+; a plain comment elsewhere): every function of assenso.js is
      // compiled with the script, on the streaming thread while it downloads, instead of lazily on the main
      // thread at first call. Start-up runs most of them at once; at 4x CPU the script's first task took half
      // the time (median 15.6 vs 33.7 ms, interleaved A/B) and the banner showed ~25% sooner. The comment must
      // open the file.
      const entry = `${dist}/assenso.js`;
      writeFileSync(entry, `//# allFunctionsCalledOnLoad\n${readFileSync(entry, 'utf8')}`);
      // The hosted preference page's hydration script (real Preact; src/server/pages/build.ts).
      await build(pagesBuild(root, dist));
      const versioned = `${dist}/${version}`;
      rmSync(versioned, { recursive: true, force: true });
      mkdirSync(versioned, { recursive: true });
      for (const p of ['assenso.js', 'chunks', 'i18n'])
        cpSync(`${dist}/${p}`, `${versioned}/${p}`, { recursive: true });
      const integrity = `sha384-${createHash('sha384')
        .update(readFileSync(`${versioned}/assenso.js`))
        .digest('base64')}`;
      writeFileSync(
        `${dist}/sri.json`,
        `${JSON.stringify({ version, file: `${version}/assenso.js`, integrity }, null, 2)}\n`,
      );
      declarations();
    },
  };
}

/**
 * dist/types: declarations of the ES module entry. The sources import with `.ts` extensions; the emitted
 * declarations are rewritten to `.js`, which every TypeScript resolution mode maps to the `.d.ts` beside it.
 */
function declarations(): void {
  const out = `${dist}/types`;
  const tsc = spawnSync(
    `${root}node_modules/.bin/tsc`,
    [
      ...[src('index.ts'), src('ui/env.d.ts')],
      ...['--declaration', '--emitDeclarationOnly', '--outDir', out, '--rootDir', src('')],
      ...['--allowImportingTsExtensions', '--jsx', 'react-jsx', '--jsxImportSource', 'preact'],
      ...['--module', 'esnext', '--moduleResolution', 'bundler', '--target', 'es2022'],
      ...['--lib', 'es2023,dom,dom.iterable', '--strict', '--skipLibCheck', '--types', 'node'],
    ],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error('declarations: tsc failed (see above)');
  const rewrite = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) rewrite(path);
      else if (path.endsWith('.d.ts'))
        writeFileSync(
          path,
          readFileSync(path, 'utf8')
            .replace(/(['"]\.{1,2}\/[^'"]+?)\.tsx?(['"])/g, '$1.js$2')
            // A stylesheet Vite inlines is a string: said here, so that the types need no Vite declarations
            // (a project compiling them with tsc's default skipLibCheck: false failed on `./prefs.css?inline`).
            .replace(
              /export \{ default as (\w+) \} from '[^']+\.css\?inline';/g,
              'export declare const $1: string;',
            ),
        );
    }
  };
  rewrite(out);
}

export default defineConfig({
  ...widget,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    lib: { entry: src('index.ts'), formats: ['es'], fileName: () => 'assenso.mjs' },
    rolldownOptions: { output: { chunkFileNames: 'esm/[name]-[hash].js' } },
  },
  plugins: [scriptTagBuild()],
});
