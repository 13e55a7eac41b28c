/**
 * @module
 * `assenso keys rotate|status`: the contact-data encryption keys (KEKs) supplied by the operator.
 */
import { parseArgs } from 'node:util';
import { openProtectionCli, table } from '../protection/cli-support.ts';
import { contactKeyCounts, type KeyCount, rotateContactKeys } from '../protection/key-rotation.ts';
import { type Command, UsageError } from './command.ts';

const STATUS: Record<KeyCount['status'], string> = {
  current: 'current (encrypts)',
  old: 'old: readable, rotate it',
  retired: 'RETIRED: unreadable until the key is restored',
  unknown: 'UNKNOWN: no such key configured',
};

export const command: Command = {
  summary: 'Rotate the contact-data encryption keys (re-encrypt in batches, retire old keys)',
  usage: `assenso keys rotate [--retire KID] [--batch N] [--json]
assenso keys status [--json]

Keys come from ASSENSO_CONTACT_KEYS (JSON { "current": kid, "keys": { kid: base64 of 32 bytes }, "retired": [kid] })
or the file ASSENSO_CONTACT_KEYS_FILE; they are never stored in the database. To rotate: add a new key, make it
"current", restart the servers, then run \`assenso keys rotate\`.

  rotate    re-encrypts every contact value not under the current key, N values per transaction (default 500),
            while the servers keep running; resumes where a stopped run ended; exits 1 when values remain
            that cannot be read (retired or unknown key)
  --retire  a key to empty: says whether any value is left under it (then remove it from the configuration
            and list it under "retired")
  status    values per key id
  --config FILE as for serve. With PGlite, run these while the server is stopped.`,
  async run(ctx) {
    const [action, ...rest] = ctx.argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        retire: { type: 'string' },
        batch: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
      strict: true,
    });
    if (action !== 'rotate' && action !== 'status') throw new UsageError('expected rotate or status');
    const batch = values.batch === undefined ? 500 : Number(values.batch);
    if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
      throw new UsageError('--batch must be a whole number from 1 to 10000');
    const cli = await openProtectionCli(ctx, values.config);
    try {
      const { contactCrypto, contactKeys } = cli.protection;
      if (!contactCrypto || !contactKeys) {
        ctx.stderr(
          'assenso keys: no contact keys configured (ASSENSO_CONTACT_KEYS or ASSENSO_CONTACT_KEYS_FILE)\n',
        );
        return 1;
      }
      const print = (keys: KeyCount[]) =>
        table([
          ['KEY ID', 'VALUES', 'STATUS'],
          ...keys.map((k) => [k.kid, String(k.count), STATUS[k.status]]),
        ]);
      if (action === 'status') {
        const keys = await contactKeyCounts(cli.db, contactCrypto, contactKeys.retired);
        ctx.stdout(
          values.json ? `${JSON.stringify({ current: contactCrypto.currentKid, keys })}\n` : print(keys),
        );
        return keys.some((k) => k.status === 'retired' || k.status === 'unknown') ? 1 : 0;
      }
      const report = await rotateContactKeys({
        db: cli.db,
        crypto: contactCrypto,
        retired: contactKeys.retired,
        batchSize: batch,
        ...(values.retire ? { retire: values.retire } : {}),
        onBatch: (p) => {
          if (!values.json)
            ctx.stderr(`batch ${p.batches}: ${p.rewrapped} re-encrypted, ${p.unreadable} unreadable\n`);
        },
      });
      if (values.json) ctx.stdout(`${JSON.stringify(report)}\n`);
      else {
        ctx.stdout(
          `${report.resumed ? 'Resumed' : 'Rotated'} to ${report.targetKid}: ${report.rewrapped} re-encrypted in ${report.batches} batches, ${report.unreadable} unreadable.\n\n${print(report.keys)}`,
        );
        if (report.retired)
          ctx.stdout(
            report.retired.done
              ? `\nNo value is left under ${report.retired.kid}: remove it from the keys and list it under "retired".\n`
              : `\n${report.retired.remaining} values are still under ${report.retired.kid}: do not remove it yet.\n`,
          );
      }
      const stuck = report.keys.some((k) => k.status !== 'current');
      return stuck || (report.retired && !report.retired.done) ? 1 : 0;
    } finally {
      await cli.close();
    }
  },
};
