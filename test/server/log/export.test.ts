import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/protocol/canonical.ts';
import type { CheckpointResponse } from '../../../src/protocol/log.ts';
import { verifyCheckpointNote } from '../../../src/server/log/checkpoint.ts';
import { csvField, exportReceipts } from '../../../src/server/log/export.ts';
import { KANTARA_VERSION, type KantaraReceipt } from '../../../src/server/log/kantara.ts';
import { createMemoryKeyring, verifyWithPublicKey } from '../../../src/server/log/keys.ts';
import { leafHash, verifyInclusion } from '../../../src/server/log/merkle.ts';
import { startSequencer } from '../../../src/server/log/sequencer.ts';
import { databases } from '../../helpers/databases.ts';
import { insertReceipt } from './fixtures.ts';

const T0 = 1_760_000_000_000;
const fromHex = (h: string) => Buffer.from(h, 'hex');

/** A small RFC 4180 reader: enough to read back what the export writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && ch === '"') quoted = false;
    else if (quoted) field += ch;
    else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe.each(databases)('export on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Awaited<ReturnType<typeof d.create>>;
    const keyring = createMemoryKeyring();
    const key = keyring.publicKeys()[0]!;
    let stored: Awaited<ReturnType<typeof insertReceipt>>[];

    beforeEach(async () => {
      db = await d.create();
      stored = [];
      // Six receipts a minute apart; the last is received after the sequencer ran (no proof yet).
      for (let i = 0; i < 5; i++)
        stored.push(
          await insertReceipt(db, keyring, 'shop', T0 + i * 60_000, {
            categories: { necessary: true, analytics: i % 2 === 0 },
            revision: i === 2 ? '=HYPERLINK("http://evil.example")' : '2026-01',
          }),
        );
      await insertReceipt(db, keyring, 'blog', T0);
      await startSequencer({ db, keyring, intervalMs: 0 }).runOnce();
      stored.push(await insertReceipt(db, keyring, 'shop', T0 + 5 * 60_000));
    }, 120_000);
    afterEach(async () => {
      await db.drop();
    });

    async function run(options: Partial<Parameters<typeof exportReceipts>[0]> = {}) {
      let out = '';
      const summary = await exportReceipts({
        db,
        keyring,
        siteId: 'shop',
        format: 'ndjson',
        write: (chunk) => {
          out += chunk;
        },
        pageSize: 2,
        ...options,
      });
      return { out, summary };
    }

    it('writes NDJSON: the checkpoint and keys, then each receipt with a proof that verifies', async () => {
      const { out, summary } = await run();
      expect(summary).toMatchObject({ receipts: 6, proven: 5 });
      const [header, ...lines] = out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(header).toMatchObject({ type: 'export', siteId: 'shop', keys: [{ kid: key.kid }] });
      const checkpoint = header.checkpoint as CheckpointResponse;
      const note = verifyCheckpointNote(checkpoint.note, key.publicKey)!;
      expect(note.treeSize).toBe(5);
      expect(lines.map((l) => l.receiptId)).toEqual(stored.map((s) => s.receiptId));
      for (const line of lines.slice(0, 5)) {
        const entry = canonicalJson({ receipt: line.signed.receipt, receivedAt: line.signed.receivedAt });
        expect(verifyWithPublicKey(key.publicKey, Buffer.from(entry), line.signed.signature.sig)).toBe(true);
        expect(line.treeSize).toBe(5);
        expect(
          verifyInclusion(line.leafIndex, 5, leafHash(entry), line.inclusionProof.map(fromHex), note.root),
        ).toBe(true);
      }
      expect(lines[5]).toMatchObject({
        type: 'receipt',
        leafIndex: null,
        treeSize: null,
        inclusionProof: null,
      });
    });

    it('exports only the receipts received in [from, to)', async () => {
      const { out, summary } = await run({ from: T0 + 60_000, to: T0 + 3 * 60_000 });
      expect(summary.receipts).toBe(2);
      const ids = out
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l).receiptId);
      expect(ids).toEqual([stored[1]!.receiptId, stored[2]!.receiptId]);
    });

    it('writes CSV whose entry, signature and proof columns verify byte for byte', async () => {
      const { out } = await run({ format: 'csv' });
      const [header, ...rows] = parseCsv(out);
      expect(rows).toHaveLength(6);
      const col = (row: string[], name: string) => row[header!.indexOf(name)]!;
      for (const row of rows.slice(0, 5)) {
        const entry = col(row, 'entry');
        expect(verifyWithPublicKey(key.publicKey, Buffer.from(entry), col(row, 'sig'))).toBe(true);
        expect(Buffer.from(leafHash(entry)).toString('hex')).toBe(col(row, 'leaf_hash'));
        const note = verifyCheckpointNote(col(row, 'checkpoint'), key.publicKey)!;
        const proof = col(row, 'inclusion_proof').split(' ').filter(Boolean).map(fromHex);
        expect(
          verifyInclusion(Number(col(row, 'leaf_index')), note.treeSize, leafHash(entry), proof, note.root),
        ).toBe(true);
        expect(col(row, 'received_at')).toMatch(/^2025-10-09T/);
      }
      // A revision a spreadsheet would run as a formula is neutralised; the signed entry keeps the original.
      expect(col(rows[2]!, 'revision')).toBe(`'=HYPERLINK("http://evil.example")`);
      expect(col(rows[2]!, 'entry')).toContain('"revision":"=HYPERLINK(\\"http://evil.example\\")"');
      expect(col(rows[5]!, 'inclusion_proof')).toBe('');
      expect(csvField('a,"b"\nc')).toBe('"a,""b""\nc"');
    });

    it('renders receipts in the Kantara Consent Receipt v1.1 shape', async () => {
      const controllers = [
        {
          piiController: 'Shop S.r.l.',
          contact: 'DPO',
          address: 'Via Roma 1',
          email: 'dpo@shop.example',
          phone: '+39 000',
        },
      ];
      const { out } = await run({
        kantara: { controllers, jurisdiction: 'IT', policyUrl: 'https://shop.example/privacy' },
      });
      const lines = out
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l));
      const k = lines[1].kantara as KantaraReceipt;
      expect(k).toMatchObject({
        version: KANTARA_VERSION,
        jurisdiction: 'IT',
        consentTimestamp: Math.floor((T0 + 60_000) / 1000),
        collectionMethod: 'web consent banner: accept all',
        consentReceiptID: stored[1]!.receiptId,
        publicKey: key.publicKey,
        language: 'it',
        piiControllers: controllers,
        policyUrl: 'https://shop.example/privacy',
        sensitive: false,
        spiCat: [],
      });
      expect(k.piiPrincipalId).toMatch(/^device:[0-9a-f]{32}$/);
      // Receipt 1 refused analytics: only the granted category is a Kantara service; the refusal is kept aside.
      expect(k.services.map((s) => s.service)).toEqual(['necessary']);
      expect(k.services[0]!.purposes[0]).toMatchObject({
        purpose: 'necessary',
        consentType: 'EXPLICIT',
        thirdPartyDisclosure: false,
      });
      expect(k.assenso).toMatchObject({
        deniedCategories: ['analytics'],
        leafIndex: 1,
        signature: { kid: key.kid },
      });
      expect((lines[0].kantara as KantaraReceipt).services.map((s) => s.service)).toEqual([
        'analytics',
        'necessary',
      ]);
    });
  });
});
