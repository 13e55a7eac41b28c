// Finds the Chromium that tests, e2e and benchmarks drive. Order: $CHROMIUM_PATH, Playwright's own
// download (if one was ever installed), then Debian's /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function playwrightsOwn() {
  try {
    const { chromium } = require('playwright-core');
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The path of a Chromium binary, or undefined when there is none. */
export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return playwrightsOwn() ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/**
 * Returns a Chromium path, installing Debian's `chromium` package when none is found and we are root on
 * Debian; otherwise exits with the exact command to run.
 */
export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const isDebian = existsSync('/etc/debian_version');
  const command = 'apt-get update && apt-get install -y chromium';
  if (isRoot && isDebian) {
    console.log(`[assenso] No Chromium found: installing Debian's chromium package (${command}).`);
    execFileSync(
      'sh',
      ['-c', `DEBIAN_FRONTEND=noninteractive ${command.replace('install -y', 'install -y -q')}`],
      {
        stdio: 'inherit',
      },
    );
    const installed = findChromium();
    if (installed) return installed;
  }
  console.error(
    `[assenso] No Chromium found. Install one and run the tests again:\n  sudo ${command}\n` +
      'or point CHROMIUM_PATH at a Chromium or Chrome binary.',
  );
  process.exit(1);
}
