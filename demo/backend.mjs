// The demo shop's "backend": a pretend sign-in that vouches for the visitor with an identity token, the way a
// real site's backend would (docs/identity.md). `POST /api/sign-in {"user": "anna"}` answers
// `{"token": "<JWT>"}`, signed with the demo site's identity secret; the page hands it to assenso.identify().
// There are no passwords: this is a demo of the token, not of authentication.
// `GET /signed-in.html?user=anna` is the other way a site passes the token: rendered into the script tag
// (`data-identity`) of a page for a signed-in user, so the widget links the browser as the page loads.
//
// Mount it in any node:http server: `if (await backend.handle(req, res)) return;` (scripts/start.mjs and the
// identity e2e do). The receipt server must know the same secret under the same kid (see `identitySite`).
import { existsSync } from 'node:fs';

/** Key id and secret of the demo site. A real site keeps its secret out of the code (env, secret store). */
export const DEMO_IDENTITY = {
  kid: 'demo-1',
  secret: process.env.ASSENSO_DEMO_IDENTITY_SECRET ?? 'demo-identity-secret-change-me-0123456789',
};

/** The receipt server's site entry for the demo, with its identity secret. */
export function identitySite(origins, siteId = 'demo') {
  return {
    id: siteId,
    name: 'Assenso demo shop',
    origins,
    identity: { secrets: { [DEMO_IDENTITY.kid]: DEMO_IDENTITY.secret } },
  };
}

/** `signIdentity` of `assenso/server`: the build when there is one, else the TypeScript source through tsx. */
async function loadSignIdentity() {
  const built = new URL('../dist/server/index.js', import.meta.url);
  if (existsSync(built)) return (await import(built.href)).signIdentity;
  const { register } = await import('tsx/esm/api');
  register();
  return (await import(new URL('../src/server/identity-token.ts', import.meta.url).href)).signIdentity;
}

/** @param {{ siteId?: string, kid?: string, secret?: string }} [options] */
export async function createDemoBackend(options = {}) {
  const signIdentity = await loadSignIdentity();
  const { siteId = 'demo', kid = DEMO_IDENTITY.kid, secret = DEMO_IDENTITY.secret } = options;
  return {
    /** Handles `POST /api/sign-in` and `GET /signed-in.html`; returns false for anything else. */
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/signed-in.html') return signedInPage(url.searchParams.get('user'), res);
      if (url.pathname !== '/api/sign-in') return false;
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return true;
      }
      let size = 0;
      const chunks = [];
      for await (const c of req) {
        size += c.length;
        if (size > 4096) break;
        chunks.push(c);
      }
      let user;
      try {
        user = JSON.parse(Buffer.concat(chunks).toString('utf8')).user;
      } catch {
        user = undefined;
      }
      if (typeof user !== 'string' || !/^[\w.@-]{1,64}$/.test(user)) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":"user: 1-64 letters, digits, . @ _ -"}');
        return true;
      }
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ token: tokenFor(user) }));
      return true;
    },
  };

  // The site's own user id: here the name typed; in a real shop, the account's primary key.
  function tokenFor(user) {
    return signIdentity({ secret, kid, siteId, userId: `demo-user:${user.toLowerCase()}`, ttlSeconds: 300 });
  }

  function signedInPage(user, res) {
    if (typeof user !== 'string' || !/^[\w.@-]{1,64}$/.test(user)) {
      res
        .writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
        .end('user: 1-64 letters, digits, . @ _ -');
      return true;
    }
    // A JWT is base64url and dots: nothing to escape in an attribute, the name is checked above.
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(
      `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Signed in · Bottega Demo</title>
    <link rel="stylesheet" href="/style.css" />
    <script src="/assenso.js" data-config="/config.json" data-identity="${tokenFor(user)}" async></script>
  </head>
  <body>
    <header><strong>Bottega Demo</strong> <a href="/account.html">Account</a></header>
    <main>
      <h1>Signed in as ${user}</h1>
      <p>This page was rendered for a signed-in user: the identity token is in the script tag
      (<code>data-identity</code>), so this browser is linked as the page loads.</p>
    </main>
    <footer><a href="/privacy.html#cookie" data-assenso-open>Cookie settings</a></footer>
  </body>
</html>
`,
    );
    return true;
  }
}
