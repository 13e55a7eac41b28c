// The demo account page: sign in (the demo backend signs an identity token), then hand the token to the
// widget, which links this browser to the person and applies their consent from their other devices.
const status = document.getElementById('status');
const say = (text) => {
  status.textContent = text;
};
const api = () =>
  new Promise((resolve) => {
    const ready = () => window.assenso && !Array.isArray(window.assenso) && window.assenso.identify;
    if (ready()) return resolve(window.assenso);
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        resolve(window.assenso);
      }
    }, 50);
  });

document.getElementById('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  const user = new FormData(event.currentTarget).get('user');
  say('Signing in…');
  const res = await fetch('/api/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  if (!res.ok) return say('Sign-in failed: check the name.');
  const { token } = await res.json();
  const linked = await (await api()).identify(token);
  say(
    linked
      ? `Signed in as ${user}: your cookie choices now follow you.`
      : 'Sign-in worked, but linking failed.',
  );
  document.documentElement.dataset.linked = linked ? 'yes' : 'no';
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await (await api()).forget();
  document.documentElement.dataset.linked = 'no';
  say('Signed out: this browser is no longer linked.');
});

// Pairing without an account, and the linked devices: `assenso.identity()` is the full identity API.
const identity = async () => (await api()).identity();
const time = (ms) => new Date(ms).toLocaleString();

document.getElementById('show-code').addEventListener('click', async () => {
  try {
    const { code, expiresAt } = await (await identity()).pairingCode();
    document.getElementById('code').textContent =
      `${code} (valid until ${new Date(expiresAt).toLocaleTimeString()})`;
  } catch {
    say('Could not get a code: try again in a few minutes.');
  }
});

document.getElementById('claim').addEventListener('submit', async (event) => {
  event.preventDefault();
  const code = new FormData(event.currentTarget).get('code');
  try {
    await (await identity()).claim(String(code));
    document.documentElement.dataset.linked = 'yes';
    say('Linked: your cookie choices now follow you across these browsers.');
  } catch {
    say('That code is unknown, expired or already used.');
  }
});

async function listDevices() {
  const list = document.getElementById('devices');
  const { devices } = await (await identity()).devices();
  list.replaceChildren(
    ...devices.map((d) => {
      const li = document.createElement('li');
      li.textContent = `${d.browser}${d.current ? ' (this browser)' : ''}: first seen ${time(d.firstSeen)}, last seen ${time(d.lastSeen)} `;
      const unlink = document.createElement('button');
      unlink.type = 'button';
      unlink.textContent = 'Unlink';
      unlink.addEventListener('click', async () => {
        await (await identity()).unlink(d.id);
        await listDevices();
      });
      li.append(unlink);
      return li;
    }),
  );
  if (!devices.length) say('This browser is not linked to anyone.');
}
document
  .getElementById('list-devices')
  .addEventListener('click', () => listDevices().catch(() => say('Could not list devices.')));
