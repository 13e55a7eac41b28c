import { readFileSync } from 'node:fs';

/** The package version (`package.json`), also the widget build's versioned path: `dist/<version>/assenso.js`. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
