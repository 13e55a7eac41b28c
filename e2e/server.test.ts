// Issue 3's proof in a real browser: the demo shop with the real `assenso serve` (on PGlite, as `npm start`
// runs it, and on PostgreSQL). A decision becomes a receipt the server stores; a reload shows no banner and
// sends nothing new; with the endpoint down, three decisions still apply at once, wait in the outbox, and
// after the server is back exactly those three arrive, in order, once each.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Demo,
  freePort,
  launchChromium,
  POSTGRES_URL,
  postgresReachable,
  type ReceiptServer,
  startDemo,
  startReceiptServer,
  waitFor,
  watchPage,
} from './harness.ts';

interface Snapshot {
  categories: Record<string, boolean>;
  decision: { receiptId: string; deviceId: string; categories: Record<string, boolean> } | null;
  pending: boolean;
}
interface Log {
  acknowledged: { receipt: { receiptId: string } }[];
  pending: { receiptId: string }[];
  rejected: unknown[];
}
interface StoredReceipt {
  receiptId: string;
  previousReceiptId: string | null;
  collectedAt: number;
  method: string;
  categories: Record<string, boolean>;
  receivedAt: number;
}

const snapshot = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as { assenso: { get(): unknown } }).assenso.get(),
  ) as Promise<Snapshot>;
const receiptLog = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as { assenso: { receipts(): Promise<unknown> } }).assenso.receipts(),
  ) as Promise<Log>;
const waitForApi = (page: Page) => page.waitForFunction("typeof window.assenso?.get === 'function'");

/** The receipts the server stored for a device, oldest decision first. PGlite: the server must be stopped. */
async function storedReceipts(server: ReceiptServer, deviceId: string): Promise<StoredReceipt[]> {
  const rows = (await server.query('SELECT entry FROM receipts WHERE device_id = $1', [deviceId])) as {
    entry: string;
  }[];
  return rows
    .map((r) => JSON.parse(r.entry) as { receipt: StoredReceipt; receivedAt: number })
    .map((e) => ({ ...e.receipt, receivedAt: e.receivedAt }))
    .sort((a, b) => a.collectedAt - b.collectedAt);
}

/** What the server answers for the device at GET /v1/consent (works on both drivers while running). */
async function serverDecision(server: ReceiptServer, deviceId: string) {
  const res = await fetch(`${server.url}/v1/consent?site=demo&device=${deviceId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { decision: { receiptId: string } | null }).decision;
}

// As in test/helpers/databases.ts: CI must test against PostgreSQL; a developer machine without it skips.
const postgresUp = await postgresReachable();
if (!postgresUp && process.env.CI)
  throw new Error(
    `PostgreSQL is not reachable at ${POSTGRES_URL}: CI must test against it (or set TEST_DATABASE_URL).`,
  );

describe.each(['pglite', 'postgres'] as const)('demo + assenso serve on %s', (driver) => {
  if (driver === 'postgres' && !postgresUp) {
    it.skip(`PostgreSQL not reachable at ${POSTGRES_URL}: skipped on this machine`, () => {});
    return;
  }
  let browser: Browser;
  let server: ReceiptServer;
  let demo: Demo;

  beforeAll(async () => {
    const demoPort = await freePort();
    const [b, s] = await Promise.all([
      launchChromium(),
      startReceiptServer({ driver, origins: [`http://127.0.0.1:${demoPort}`] }),
    ]);
    browser = b;
    server = s;
    demo = await startDemo({ port: demoPort, server });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await server?.stop();
  });

  it('decide, reload: the receipt is stored once, the banner stays away', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const watch = await watchPage(page);
    await page.goto(`${demo.url}/index.html`);
    await page.getByRole('button', { name: 'Accetta tutti' }).click();
    await waitFor(async () => (await receiptLog(page)).acknowledged.length === 1, 'the acknowledgement');
    const { decision } = await snapshot(page);
    expect(decision?.categories).toMatchObject({ necessary: true, analytics: true, marketing: true });
    expect((await serverDecision(server, decision!.deviceId))?.receiptId).toBe(decision!.receiptId);

    await page.reload();
    await waitForApi(page);
    await expect.poll(async () => (await snapshot(page)).decision?.receiptId).toBe(decision!.receiptId);
    expect(await page.getByRole('button', { name: 'Accetta tutti' }).count()).toBe(0);
    const log = await receiptLog(page);
    expect(log.pending).toEqual([]);
    expect(log.acknowledged.map((a) => a.receipt.receiptId)).toEqual([decision!.receiptId]);
    expect((await serverDecision(server, decision!.deviceId))?.receiptId).toBe(decision!.receiptId);
    expect(watch.httpErrors).toEqual([]);
    expect(watch.errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('endpoint down while deciding three times, back up: exactly those three arrive, in order, once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${demo.url}/index.html`);
    await page.getByRole('button', { name: 'Rifiuta tutti' }).click();
    await waitFor(
      async () => (await receiptLog(page)).acknowledged.length === 1,
      'the first acknowledgement',
    );
    const first = (await snapshot(page)).decision!;

    await server.kill();
    const api = (fn: string) => page.evaluate(`window.assenso.${fn}`);
    await api('acceptAll()');
    expect((await snapshot(page)).categories).toMatchObject({ analytics: true, marketing: true });
    await api('set({ categories: { marketing: false } })');
    await api('set({ categories: { analytics: false } })');
    // Applied at once although nothing could be sent: an unreachable endpoint never changes a decision.
    const last = await snapshot(page);
    expect(last.categories).toMatchObject({ necessary: true, analytics: false, marketing: false });
    await expect.poll(async () => (await receiptLog(page)).pending.length).toBe(3);
    const pendingIds = (await receiptLog(page)).pending.map((r) => r.receiptId);

    await server.restart();
    // The outbox sends on load (also on `online`, on pagehide and after its backoff).
    await page.reload();
    await waitForApi(page);
    await waitFor(async () => (await receiptLog(page)).pending.length === 0, 'the outbox to drain', 60_000);
    const log = await receiptLog(page);
    expect(log.rejected).toEqual([]);
    expect(log.acknowledged.map((a) => a.receipt.receiptId)).toEqual([first.receiptId, ...pendingIds]);
    expect((await serverDecision(server, first.deviceId))?.receiptId).toBe(last.decision!.receiptId);

    if (driver === 'pglite') await server.terminate(); // PGlite: one process per data directory
    const stored = await storedReceipts(server, first.deviceId);
    expect(stored.map((r) => r.receiptId)).toEqual([first.receiptId, ...pendingIds]);
    expect(new Set(stored.map((r) => r.receiptId)).size).toBe(4);
    expect(stored.map((r) => r.categories)).toEqual([
      { necessary: true, analytics: false, marketing: false },
      { necessary: true, analytics: true, marketing: true },
      { necessary: true, analytics: true, marketing: false },
      { necessary: true, analytics: false, marketing: false },
    ]);
    // Each receipt names its predecessor: the device's history is one unbroken chain.
    expect(stored.map((r) => r.previousReceiptId)).toEqual([
      null,
      ...stored.slice(0, 3).map((r) => r.receiptId),
    ]);
    for (let i = 1; i < stored.length; i++)
      expect(stored[i]!.receivedAt).toBeGreaterThanOrEqual(stored[i - 1]!.receivedAt);
    await context.close();
  }, 240_000);
});
