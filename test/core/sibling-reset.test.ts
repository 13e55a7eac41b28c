// Sibling subdomains sharing the consent cookie (`cookie.domain`), each with its own IndexedDB: a reset on one
// must not be undone by the other's copy, which it used to apply and write back to the shared cookie.
import { afterEach, expect, it } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { createStorage } from '../../src/core/storage.ts';
import { destroyAll, siteConfig, track, uid } from './helpers.ts';

afterEach(destroyAll);

it("a reset on one subdomain is neither undone by a sibling's own copy nor applied there", async () => {
  const cfg = siteConfig({ cookie: { name: `c_${uid()}`, domain: location.hostname } });
  // www. and blog.: one cookie jar, two databases, no tab channel between them.
  const visit = async (host: string) => {
    const c = track(
      createConsent(cfg, {
        gpc: false,
        channel: `${cfg.siteId}-${host}`,
        storage: createStorage(`${cfg.siteId}-${host}`),
      }),
    );
    await c.start();
    return c;
  };
  const www = await visit('www');
  const d = await www.acceptAll();
  // A visit to blog. keeps the decision in blog's own database; its tab stays open.
  const blog = await visit('blog');
  expect(blog.getState().decision?.receiptId).toBe(d.receiptId);
  expect(await createStorage(`${cfg.siteId}-blog`).state.get('decision')).toMatchObject({
    receiptId: d.receiptId,
  });

  await www.reset();
  // Back to the open blog tab: the reset applies there too.
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  expect(blog.has('analytics')).toBe(false);
  expect(blog.getState().prompt?.reason).toBe('first-visit');

  // The next visits: blog's copy is neither applied nor written back, and www stays reset.
  destroyAll();
  const blog2 = await visit('blog');
  expect(blog2.getState().decision).toBeNull();
  expect(await createStorage(`${cfg.siteId}-blog`).state.get('decision')).toBeUndefined();
  const www2 = await visit('www');
  expect(www2.getState().decision).toBeNull();
  expect(www2.has('analytics')).toBe(false);

  // A decision after the reset counts everywhere.
  const again = await www2.rejectAll();
  destroyAll();
  expect((await visit('blog')).getState().decision?.receiptId).toBe(again.receiptId);
});
