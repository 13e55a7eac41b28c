import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/server/config.ts';

describe('server configuration', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'assenso-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fills defaults and normalises origins', () => {
    const config = parseConfig({ sites: [{ id: 'shop', origins: ['https://Shop.Example/'] }] });
    // Other parts of the server add keys of their own: only this part's are checked here.
    expect(config).toMatchObject({
      sites: [{ id: 'shop', origins: ['https://shop.example'], lifetimeDays: 365 }],
      dataDir: './data',
      rateLimit: { windowSeconds: 60, receipts: 600, reads: 1200 },
      trustProxy: false,
      logLevel: 'info',
    });
  });

  it.each([
    [{ sites: [{ id: 'shop', origins: ['*'] }] }, /sites\.0\.origins\.0: must be an origin/],
    [{ sites: [{ id: 'shop', origins: ['null'] }] }, /sites\.0\.origins\.0: must be an origin/],
    [{ sites: [{ id: 'shop', origins: ['https://shop.example/path'] }] }, /sites\.0\.origins\.0/],
    [{ sites: [{ id: 'shop', origins: [] }] }, /sites\.0\.origins/],
    [{ sites: [{ id: 'Shop!', origins: ['https://a.example'] }] }, /sites\.0\.id/],
    [
      { sites: [{ id: 'shop', orgins: ['https://a.example'] }] },
      /sites\.0\.origins: required; sites\.0\.orgins: unknown key/,
    ],
    [{ sites: [], ratelimit: false }, /ratelimit: unknown key/],
    [{ sites: [], trustProxy: 'yes' }, /trustProxy/],
    [
      {
        sites: [
          { id: 'a', origins: ['https://a.example'] },
          { id: 'a', origins: ['https://b.example'] },
        ],
      },
      /sites: site ids must be unique/,
    ],
  ])('names the bad key: %j', (value, message) => {
    expect(() => parseConfig(value)).toThrow(ConfigError);
    expect(() => parseConfig(value)).toThrow(message);
  });

  it('reads ./assenso.config.json when present, and ASSENSO_SITES over it', async () => {
    await writeFile(
      join(dir, 'assenso.config.json'),
      JSON.stringify({
        sites: [{ id: 'file', origins: ['https://file.example'] }],
        dataDir: '/var/lib/assenso',
      }),
    );
    expect((await loadConfig({ cwd: dir, env: {} })).sites[0]?.id).toBe('file');
    const config = await loadConfig({
      cwd: dir,
      env: {
        ASSENSO_SITES: JSON.stringify([{ id: 'env', origins: ['https://env.example'] }]),
        ASSENSO_TRUST_PROXY: '2',
      },
    });
    expect(config.sites.map((s) => s.id)).toEqual(['env']);
    expect(config.dataDir).toBe('/var/lib/assenso');
    expect(config.trustProxy).toBe(2);
  });

  it('reads --config (or ASSENSO_CONFIG) relative to the working directory', async () => {
    await writeFile(
      join(dir, 'other.json'),
      JSON.stringify({ sites: [{ id: 'other', origins: ['http://localhost:5173'] }] }),
    );
    expect((await loadConfig({ cwd: dir, configPath: 'other.json', env: {} })).sites[0]?.id).toBe('other');
    expect((await loadConfig({ cwd: dir, env: { ASSENSO_CONFIG: 'other.json' } })).sites[0]?.id).toBe(
      'other',
    );
  });

  it('starts with no sites when nothing is configured', async () => {
    expect((await loadConfig({ cwd: dir, env: {} })).sites).toEqual([]);
  });

  it.each([
    ['a missing file', { configPath: 'missing.json' }, /cannot read config file/],
    ['ASSENSO_SITES that is not JSON', { env: { ASSENSO_SITES: '[{' } }, /ASSENSO_SITES: not valid JSON/],
  ])('fails on %s', async (_, opts, message) => {
    await expect(loadConfig({ cwd: dir, env: {}, ...opts })).rejects.toThrow(message);
  });

  it('fails on a file that is not a JSON object, naming the file', async () => {
    await writeFile(join(dir, 'assenso.config.json'), '[1]');
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      /assenso\.config\.json: \(root\): must be a JSON object/,
    );
  });
});
