/**
 * @module
 * `assenso signing-keys list | rotate | retire KID`: the Ed25519 keys that sign receipts and checkpoints, kept
 * in `<dataDir>/keys/` (src/server/log/keys.ts). A rotation or retirement takes effect at the next start;
 * every key ever used stays, so that what it signed still verifies.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { type SigningKey, readKeyFiles, retireKey, rotateKey } from '../log/keys.ts';
import { type Command, UsageError } from './command.ts';

const line = (k: SigningKey, current: boolean) =>
  `${k.kid}  created ${new Date(k.createdAt).toISOString()}${k.retiredAt !== undefined ? `  retired ${new Date(k.retiredAt).toISOString()}` : ''}${current ? '  (signs)' : ''}  ${k.publicKey}\n`;

export const command: Command = {
  summary: 'List, rotate or retire the receipt signing keys',
  usage: `assenso signing-keys list | rotate | retire KID [--config FILE]

  list     the keys in <dataDir>/keys, newest first; "(signs)" marks the one that signs
  rotate   create a new key: it signs from the next start on; older keys keep verifying
  retire   stop a key from signing (from the next start on); it keeps verifying what it signed

Keys given in ASSENSO_SIGNING_KEYS are managed there, not here.`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.argv,
      options: { config: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [action, kid, ...extra] = positionals;
    if (extra.length > 0 || !action) throw new UsageError('expected list, rotate or retire KID');
    if (ctx.env.ASSENSO_SIGNING_KEYS?.trim() && action !== 'list')
      throw new UsageError('ASSENSO_SIGNING_KEYS is set: add or retire keys in that variable instead');
    const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
    const dataDir = resolve(ctx.cwd, config.dataDir);
    if (action === 'rotate') {
      const key = await rotateKey(dataDir);
      ctx.stdout(`new key ${key.kid}: it signs after the next restart\n`);
      return 0;
    }
    if (action === 'retire') {
      if (!kid || !/^[0-9a-f]{16}$/.test(kid)) throw new UsageError('retire needs the 16-hex-digit key id');
      await retireKey(dataDir, kid);
      ctx.stdout(`key ${kid} retired: it stops signing after the next restart and keeps verifying\n`);
      return 0;
    }
    if (action !== 'list') throw new UsageError(`unknown action "${action}"`);
    const keys = (await readKeyFiles(dataDir)).sort((a, b) => b.createdAt - a.createdAt);
    const current = keys.find((k) => k.privateKey && k.retiredAt === undefined);
    if (keys.length === 0) ctx.stdout(`no keys in ${dataDir}/keys (the server creates one on first start)\n`);
    for (const k of keys) ctx.stdout(line(k, k === current));
    return 0;
  },
};
