/**
 * # e2e harness
 *
 * End-to-end tests drive the system Chromium (playwright-core, never a downloaded browser) against the demo
 * site and, for receipts, the real `assenso serve`. Run them with `npm run test:e2e` (dist/ must be built:
 * `npm run build`; `npm test` does both). Every helper listens on a random port and every test cleans up
 * what it started (`await using`-style: call `close()` / `stop()` in `afterAll`/`finally`).
 *
 * ```ts
 * const browser = await launchChromium();
 * const demo = await startDemo();                       // demo/ + dist/ on http://127.0.0.1:<port>
 * const page = await browser.newPage();
 * await page.goto(`${demo.url}/index.html`);
 * expect(await axe(page)).toEqual([]);                  // axe-core violations (open shadow roots included)
 * ```
 *
 * - `startDemo({ csp: true })` sends the strict policy of issue 2 (`strictCsp` in scripts/demo-server.mjs:
 *   nonce + 'strict-dynamic', object-src/base-uri 'none', style-src 'self' + nonce, Trusted Types with the
 *   single policy name `assenso`) with a fresh nonce per page, put on every executable `<script>`/`<style>`
 *   but never on `type="text/plain"` gated scripts. Violations land in `demo.cspReports` (report-uri) and,
 *   faster, in `watchPage(page).cspViolations` (the page's `securitypolicyviolation` events).
 * - `startDemo({ server })` points the widget configuration of every demo page at a receipt server: the
 *   `endpoint` key of the inline `<script type="application/json" data-assenso-config>` and of JSON config
 *   files, and `data-endpoint` attributes, are rewritten on the fly.
 * - `startDemo({ pages: { '/t.html': html } })` serves extra in-memory pages next to the demo.
 * - `startReceiptServer({ driver: 'pglite' | 'postgres' })` spawns `bin/assenso.js serve` on a random port
 *   with a temporary data directory (PGlite) or a fresh PostgreSQL database (dropped by `stop()`), and site
 *   `demo` allowing the given origins. `kill()` stops it abruptly (SIGKILL) and `restart()` starts it again
 *   on the same port and data: what the "endpoint down while deciding" tests need.
 * - `watchPage(page)` (before `goto`) collects console errors and warnings, uncaught errors, HTTP errors with
 *   their URLs and CSP violations, to assert that a flow left the page clean.
 * - `axe(page)` runs axe-core (read from node_modules) in the page and returns its violations. On pages
 *   under the strict CSP, open them in a context with `bypassCSP: true` to audit.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type LaunchOptions, type Page } from 'playwright-core';
import { ensureChromium } from '../scripts/chromium.mjs';
import { createDemoServer, ROOT } from '../scripts/demo-server.mjs';
import type { startReceiptServer } from '../scripts/receipt-server.mjs';

export { ROOT };
export {
  createPostgresDatabase,
  freePort,
  POSTGRES_URL,
  postgresReachable,
  startReceiptServer,
} from '../scripts/receipt-server.mjs';

/** A running `assenso serve` (see scripts/receipt-server.mjs): url, kill(), restart(), terminate(), stop(). */
export type ReceiptServer = Awaited<ReturnType<typeof startReceiptServer>>;

/** The flags every run uses: no sandbox (root in CI), no GPU, no traffic of Chromium's own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Launches the system Chromium headless. Close it in `afterAll`. */
export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    headless: true,
    ...options,
    executablePath: ensureChromium(),
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

export interface DemoOptions {
  /** Serve every HTML page with the strict CSP of issue 2 and a per-response nonce. */
  csp?: boolean;
  /** A receipt server (or its URL) the demo's widget configuration should send receipts to. */
  server?: { url: string } | string;
  /** Extra in-memory files, by path (`/test.html`); a string body is served as HTML. */
  pages?: Record<string, string | { body: string; type?: string; delayMs?: number }>;
  /** Extra response headers for every file. */
  headers?: Record<string, string>;
  /** Port to listen on (default: a free one). Pick it first with `freePort()` when a receipt server must
   * allow the demo's origin before the demo starts. */
  port?: number;
}

export interface Demo {
  /** The origin, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** CSP violation reports received at /__csp-report (arrive asynchronously). */
  cspReports: unknown[];
  close(): Promise<void>;
}

/** Serves demo/ and dist/ on a random loopback port. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const endpoint = typeof options.server === 'string' ? options.server : options.server?.url;
  const demo = createDemoServer({
    ...(endpoint ? { endpoint } : {}),
    csp: options.csp ?? false,
    pages: options.pages ?? {},
    headers: options.headers ?? {},
  });
  const url = await demo.listen(options.port ?? 0, '127.0.0.1');
  return { url, cspReports: demo.cspReports, close: () => demo.close() };
}

export interface PageWatch {
  /** console.error/warn messages and uncaught page errors, in order. */
  errors: string[];
  warnings: string[];
  /** `securitypolicyviolation` events seen in any frame of the page (directive + blocked URI + sample). */
  cspViolations: string[];
  /** Responses with status ≥ 400 and failed requests, as `status URL` (the console does not name the URL). */
  httpErrors: string[];
}

/**
 * Records errors, warnings and CSP violations of a page from now on (call before `goto`). The listener
 * for violations is installed by the DevTools protocol, so it runs even under the strict CSP.
 */
export async function watchPage(page: Page): Promise<PageWatch> {
  const watch: PageWatch = { errors: [], warnings: [], cspViolations: [], httpErrors: [] };
  page.on('response', (r) => {
    if (r.status() >= 400) watch.httpErrors.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => watch.httpErrors.push(`${r.failure()?.errorText ?? 'failed'} ${r.url()}`));
  page.on('console', (m) => {
    if (m.type() === 'error') watch.errors.push(m.text());
    if (m.type() === 'warning') watch.warnings.push(m.text());
  });
  page.on('pageerror', (e) => watch.errors.push(`pageerror: ${e.message}`));
  await page.exposeBinding('__assensoCspViolation', (_source, text: string) => {
    watch.cspViolations.push(text);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __assensoCspViolation(t: string): void }).__assensoCspViolation;
      report(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} ${e.sample}`.trim());
    });
  });
  return watch;
}

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the page, or on `include` (a CSS selector), and returns
 * its violations. The source is evaluated through the DevTools protocol, not a script tag.
 */
export async function axe(page: Page, options: { include?: string } = {}): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(`${axeSource}\n;void 0`);
  return page.evaluate(async (include) => {
    const axeApi = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<unknown> } }).axe;
    const result = (await axeApi.run(include ? { include: [include] } : document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      resultTypes: ['violations'],
    })) as { violations: AxeViolation[] };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  }, options.include);
}

/** One readable line per violation, for assertion messages. */
export function formatViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    )
    .join('\n');
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
