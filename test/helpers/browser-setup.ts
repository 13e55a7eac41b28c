import { afterAll } from 'vitest';

/**
 * Every test file of the browser project shares one origin, and with it one cookie jar: the decision mirrors
 * the tests write (one cookie per test site, about 200 B each) would pile up across files until the Cookie
 * header of the runner's own module requests outgrows the dev server's limit (16 KiB), and the next file never
 * loads. Each file leaves the jar as it found it: empty.
 */
afterAll(() => {
  for (const c of document.cookie.split(/;\s*/)) {
    const name = c.split('=')[0];
    // biome-ignore lint/suspicious/noDocumentCookie: test clean-up
    if (name) document.cookie = `${name}=; Max-Age=0; Path=/`;
  }
});
