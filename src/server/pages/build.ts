/**
 * @module
 * Vite build of the preference page's hydration script (`dist/pages/preferences.js`), called from
 * vite.config.ts. Unlike the widget, it bundles real Preact: it hydrates server-rendered markup, which the
 * widget's tiny DOM runtime does not do. One ES module, served by the server at /p/assets/ (pages/assets.ts).
 */
import type { InlineConfig } from 'vite';

export function pagesBuild(root: string, dist: string): InlineConfig {
  return {
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      outDir: dist,
      emptyOutDir: false,
      target: 'es2020',
      minify: true,
      // Lib mode keeps ES output readable by default; this file is served as is, so it is minified here.
      rolldownOptions: { output: { minify: true } },
      lib: {
        entry: `${root}src/server/pages/client.tsx`,
        formats: ['es'],
        fileName: () => 'pages/preferences.js',
      },
    },
  };
}
