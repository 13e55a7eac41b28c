import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../helpers/cli.ts';
import { loadKeyring } from '../../../src/server/log/keys.ts';

describe('assenso signing-keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'assenso-sk-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (argv: string[], env: Record<string, string> = {}) =>
    runCommand(argv, { env: { ASSENSO_DATA_DIR: dir, ...env }, cwd: dir });

  it('lists, rotates and retires keys; the next start signs with the new key and verifies with all', async () => {
    expect((await cli(['signing-keys', 'list'])).stdout).toMatch(/no keys/);
    const first = await loadKeyring({ dataDir: dir, env: {} });
    const oldKid = first.publicKeys()[0]!.kid;
    const oldSig = first.sign(Buffer.from('x'));

    const rotated = await cli(['signing-keys', 'rotate']);
    expect(rotated.code).toBe(0);
    const newKid = /new key ([0-9a-f]{16})/.exec(rotated.stdout)![1]!;
    const listed = (await cli(['signing-keys', 'list'])).stdout.trimEnd().split('\n');
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(new RegExp(`^${newKid} .*\\(signs\\)`));

    expect((await cli(['signing-keys', 'retire', oldKid])).code).toBe(0);
    expect((await cli(['signing-keys', 'list'])).stdout).toMatch(new RegExp(`${oldKid} .* retired `));
    const next = await loadKeyring({ dataDir: dir, env: {} });
    expect(next.sign(Buffer.from('y')).kid).toBe(newKid);
    expect(next.verify(oldKid, Buffer.from('x'), oldSig.sig)).toBe(true);
  });

  it('refuses bad arguments and keys managed in the environment', async () => {
    expect((await cli(['signing-keys'])).code).toBe(2);
    expect((await cli(['signing-keys', 'retire', 'nope'])).code).toBe(2);
    expect((await cli(['signing-keys', 'spin'])).code).toBe(2);
    const env = await cli(['signing-keys', 'rotate'], { ASSENSO_SIGNING_KEYS: '[]' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/ASSENSO_SIGNING_KEYS is set/);
    const missing = await cli(['signing-keys', 'retire', '0123456789abcdef']);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toMatch(/no key 0123456789abcdef/);
  });
});
