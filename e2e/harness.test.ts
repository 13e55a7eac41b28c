// The harness itself: the demo server's content types, the strict CSP it sends (a nonce per page that lets
// the page's own scripts run and nothing else), the endpoint rewrite, and the axe helper finding a real
// violation. Every widget e2e test leans on these, so they are proven here on pages of their own.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, launchChromium, startDemo, watchPage } from './harness.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const CONFIG_PAGE = `<!doctype html><html lang="en"><head><title>t</title>
<script type="application/json" data-assenso-config>{"siteId":"demo","endpoint":"http://example.invalid/v1/receipts"}</script>
</head><body><div id="x" data-endpoint="old"></div></body></html>`;

const CSP_PAGE = `<!doctype html><html lang="en"><head><title>csp</title>
<style>body { color: rgb(1, 2, 3); }</style></head><body><main><h1>CSP</h1></main>
<script>window.ownScriptRan = true;</script>
<script type="text/plain" data-assenso="analytics">window.gatedRan = true;</script>
<script>
  try { document.querySelector('main').innerHTML = '<b>x</b>'; } catch (e) { window.sinkError = String(e); }
  try {
    const s = document.createElement('script');
    s.textContent = 'window.dynamicRan = true';
    document.body.append(s);
  } catch (e) { window.scriptSinkError = String(e); }
</script>
</body></html>`;

describe('startDemo', () => {
  it('serves demo pages, dist files and in-memory pages with their content types, 404 otherwise', async () => {
    const demo = await startDemo({ pages: { '/t.html': '<!doctype html><title>t</title>' } });
    try {
      const page = await fetch(`${demo.url}/t.html`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const missing = await fetch(`${demo.url}/nope.html`);
      expect(missing.status).toBe(404);
      const traversal = await fetch(`${demo.url}/..%2fpackage.json`);
      expect(traversal.status).toBe(404);
    } finally {
      await demo.close();
    }
  });

  it('points the inline configuration and data-endpoint attributes at the given receipt server', async () => {
    const demo = await startDemo({ server: 'http://127.0.0.1:9/', pages: { '/c.html': CONFIG_PAGE } });
    try {
      const html = await (await fetch(`${demo.url}/c.html`)).text();
      const json = /data-assenso-config>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
      expect(JSON.parse(json)).toEqual({ siteId: 'demo', endpoint: 'http://127.0.0.1:9/' });
      expect(html).toContain('data-endpoint="http://127.0.0.1:9/"');
    } finally {
      await demo.close();
    }
  });

  it('under csp: the page scripts run with their nonce, a gated script does not, Trusted Types are enforced', async () => {
    const demo = await startDemo({ csp: true, pages: { '/csp.html': CSP_PAGE } });
    const page = await browser.newPage();
    try {
      const watch = await watchPage(page);
      const res = await page.goto(`${demo.url}/csp.html`);
      const csp = res?.headers()['content-security-policy'] ?? '';
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(csp).toContain("'strict-dynamic'");
      expect(csp).toContain("require-trusted-types-for 'script'");
      expect(nonce).toBeTruthy();
      expect(await page.evaluate('window.ownScriptRan')).toBe(true);
      expect(await page.evaluate('window.gatedRan')).toBeUndefined();
      // Trusted Types: a plain string into a script or HTML sink is refused.
      expect(await page.evaluate('window.dynamicRan')).toBeUndefined();
      expect(String(await page.evaluate('window.sinkError'))).toContain('TrustedHTML');
      expect(String(await page.evaluate('window.scriptSinkError'))).toContain('TrustedScript');
      expect(await page.evaluate('getComputedStyle(document.body).color')).toBe('rgb(1, 2, 3)');
      await expect.poll(() => watch.cspViolations.length).toBeGreaterThan(0);
      expect(watch.cspViolations.join('\n')).toContain('require-trusted-types-for');
      // The fresh page gets another nonce.
      const again = await fetch(`${demo.url}/csp.html`);
      expect(again.headers.get('content-security-policy')).not.toContain(nonce);
    } finally {
      await page.close();
      await demo.close();
    }
  });
});

describe('axe', () => {
  it('reports a real violation and none on a clean page', async () => {
    const demo = await startDemo({
      pages: {
        '/bad.html':
          '<!doctype html><html lang="en"><head><title>bad</title></head><body><main><button></button></main></body></html>',
        '/good.html':
          '<!doctype html><html lang="en"><head><title>good</title></head><body><main><button>OK</button></main></body></html>',
      },
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${demo.url}/bad.html`);
      expect((await axe(page)).map((v) => v.id)).toContain('button-name');
      await page.goto(`${demo.url}/good.html`);
      expect(await axe(page)).toEqual([]);
    } finally {
      await page.close();
      await demo.close();
    }
  });
});
