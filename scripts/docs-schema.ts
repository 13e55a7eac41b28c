/**
 * Generates docs/receipt.schema.json (JSON Schema 2020-12 of a receipt) and docs/openapi.json (OpenAPI 3.1 of
 * the receipt API) from the protocol's valibot schemas, the single source. `npm run docs:schema` writes them;
 * `--check` exits 1 when the committed files are out of date (test/server/docs.test.ts does the same).
 *
 * Other parts of the API add their paths to `PATHS` below (one entry per endpoint).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import { MAX_BATCH, MAX_BODY_BYTES } from '../src/protocol/api.ts';
import { PROBLEM_TYPES } from '../src/protocol/problem.ts';
import { ReceiptSchema } from '../src/protocol/receipt.ts';
import { API_VERSION, RECEIPT_SCHEMA } from '../src/protocol/version.ts';

const ROOT = new URL('../', import.meta.url);
export const RECEIPT_SCHEMA_FILE = new URL('docs/receipt.schema.json', ROOT);
export const OPENAPI_FILE = new URL('docs/openapi.json', ROOT);

/** The receipt as JSON Schema 2020-12. */
export function receiptJsonSchema(): JsonSchema {
  const schema = toJsonSchema(ReceiptSchema, {
    target: 'draft-2020-12',
    errorMode: 'throw',
    // The only `check` in a receipt caps the number of choices ("at most N entries"): maxProperties.
    overrideAction: ({ valibotAction, jsonSchema }) => {
      const limit = /^at most (\d+) entries$/.exec(String((valibotAction as { message?: unknown }).message));
      return valibotAction.type === 'check' && limit
        ? { ...jsonSchema, maxProperties: Number(limit[1]) }
        : undefined;
    },
    // A record keyed by a picklist (channels): the converter's own output is right, it only warns.
    overrideSchema: ({ valibotSchema }) => {
      const s = valibotSchema as { type: string; key?: { type: string; options?: string[] } };
      if (s.type !== 'record' || s.key?.type !== 'picklist') return undefined;
      return {
        type: 'object',
        propertyNames: { enum: s.key.options ?? [] },
        additionalProperties: { type: 'boolean' },
      };
    },
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://assenso.dev/schemas/receipt-1.json',
    title: `Assenso consent receipt (${RECEIPT_SCHEMA})`,
    ...schema,
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = (description: string, codes: (keyof typeof PROBLEM_TYPES)[]) => ({
  description: `${description} Problem types: ${codes.map((c) => PROBLEM_TYPES[c]).join(', ')}.`,
  content: { 'application/problem+json': { schema: ref('ProblemDetails') } },
});
const rateLimited = {
  description: `Too many requests from this client. Problem type: ${PROBLEM_TYPES['rate-limited']}.`,
  headers: { 'Retry-After': { description: 'Seconds until the window ends.', schema: { type: 'integer' } } },
  content: { 'application/problem+json': { schema: ref('ProblemDetails') } },
};
const epochMs = { type: 'integer', description: 'Epoch milliseconds.' };
const choices = { type: 'object', additionalProperties: { type: 'boolean' } };

const SCHEMAS: Record<string, unknown> = {
  BatchRequest: {
    type: 'object',
    required: ['receipts'],
    additionalProperties: false,
    properties: { receipts: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: ref('Receipt') } },
  },
  ReceiptSignature: {
    type: 'object',
    required: ['alg', 'kid', 'sig'],
    properties: {
      alg: { const: 'Ed25519' },
      kid: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'Key id, see GET /v1/keys.' },
      sig: {
        type: 'string',
        description: 'Base64url Ed25519 signature over the canonical JSON of {receipt, receivedAt}.',
      },
    },
  },
  SignedReceipt: {
    type: 'object',
    required: ['receipt', 'receivedAt', 'leafHash', 'signature'],
    properties: {
      receipt: ref('Receipt'),
      receivedAt: { ...epochMs, description: 'Server clock at commit: the time that counts.' },
      leafHash: {
        type: 'string',
        pattern: '^[0-9a-f]{64}$',
        description: 'SHA-256(0x00 || entry), RFC 9162.',
      },
      signature: ref('ReceiptSignature'),
      leafIndex: { type: 'integer', description: "Index in the site's log, once sequenced." },
    },
  },
  ReceiptResult: {
    oneOf: [
      {
        type: 'object',
        required: ['index', 'receiptId', 'status', 'outcome', 'signed'],
        properties: {
          index: { type: 'integer' },
          receiptId: { type: 'string' },
          status: { enum: [201, 200] },
          outcome: { enum: ['stored', 'duplicate'] },
          signed: ref('SignedReceipt'),
        },
      },
      {
        type: 'object',
        required: ['index', 'receiptId', 'status', 'outcome', 'problem'],
        properties: {
          index: { type: 'integer' },
          receiptId: { type: ['string', 'null'] },
          status: { type: 'integer', enum: [403, 404, 422] },
          outcome: { const: 'rejected' },
          problem: ref('ProblemDetails'),
        },
      },
    ],
  },
  BatchResponse: {
    type: 'object',
    required: ['results'],
    properties: { results: { type: 'array', items: ref('ReceiptResult') } },
  },
  ConsentStateResponse: {
    type: 'object',
    required: ['siteId', 'deviceId', 'subjectId', 'decision'],
    properties: {
      siteId: { type: 'string' },
      deviceId: { type: 'string' },
      subjectId: { type: ['string', 'null'] },
      decision: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: [
              'revision',
              'method',
              'receiptId',
              'decidedAt',
              'receivedAt',
              'expiresAt',
              'categories',
              'services',
              'updatedAt',
            ],
            properties: {
              revision: { type: 'string' },
              method: { type: 'string' },
              receiptId: { type: 'string' },
              decidedAt: epochMs,
              receivedAt: epochMs,
              expiresAt: epochMs,
              categories: choices,
              services: choices,
              updatedAt: { type: 'object', additionalProperties: epochMs },
              expiries: {
                type: 'object',
                description: 'When each choice expires, by category or service id.',
                additionalProperties: epochMs,
              },
              expired: {
                type: 'object',
                description:
                  'Grants past their expiry, by category or service id, with the time they expired: they read false above (docs/protocol.md).',
                additionalProperties: epochMs,
              },
            },
          },
        ],
      },
    },
  },
  SigningKey: {
    type: 'object',
    required: ['alg', 'kid', 'publicKey', 'createdAt'],
    properties: {
      alg: { const: 'Ed25519' },
      kid: { type: 'string' },
      publicKey: { type: 'string', description: 'Base64url of the raw 32-byte Ed25519 public key.' },
      createdAt: epochMs,
      retiredAt: epochMs,
    },
  },
  KeysResponse: {
    type: 'object',
    required: ['keys'],
    properties: { keys: { type: 'array', items: ref('SigningKey') } },
  },
  ProblemDetails: {
    type: 'object',
    description: 'RFC 9457 problem details; clients switch on `type`.',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string', enum: Object.values(PROBLEM_TYPES) },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      errors: {
        type: 'array',
        items: { type: 'string' },
        description: 'Validation issues, as `path: message`.',
      },
    },
  },
};

const PATHS: Record<string, unknown> = {
  [`/${API_VERSION}/receipts`]: {
    post: {
      summary: 'Store a batch of consent receipts',
      description:
        `Up to ${MAX_BATCH} receipts, body at most ${MAX_BODY_BYTES} bytes, sent as application/json or (sendBeacon) ` +
        'text/plain. Each receipt is answered on its own; valid ones are committed in one transaction. The receipt id ' +
        'is the idempotency key: the same id and body answer 200 with the original signed receipt, another body 422.',
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref('BatchRequest') },
          'text/plain': { schema: ref('BatchRequest') },
        },
      },
      responses: {
        '200': {
          description: 'One result per receipt, in order.',
          content: { 'application/json': { schema: ref('BatchResponse') } },
        },
        '400': problem('The body is not JSON or not a batch.', ['malformed-json', 'invalid-request']),
        '403': problem('The Origin may not send receipts here.', ['origin-not-allowed']),
        '404': problem('Every receipt names the same unknown site.', ['unknown-site']),
        '413': problem('The body is larger than allowed.', ['payload-too-large']),
        '415': problem('Another content type than application/json or text/plain.', [
          'unsupported-media-type',
        ]),
        '429': rateLimited,
      },
    },
  },
  [`/${API_VERSION}/consent`]: {
    get: {
      summary: 'The latest decision known for a device',
      parameters: [
        { name: 'site', in: 'query', required: true, schema: { type: 'string' } },
        {
          name: 'device',
          in: 'query',
          required: true,
          schema: { type: 'string', pattern: '^[0-9a-f]{32}$' },
        },
      ],
      responses: {
        '200': {
          description: 'The merged current state.',
          content: { 'application/json': { schema: ref('ConsentStateResponse') } },
        },
        '400': problem('Missing or malformed parameters.', ['invalid-request']),
        '404': problem('Unknown site.', ['unknown-site']),
        '429': rateLimited,
      },
    },
  },
  [`/${API_VERSION}/keys`]: {
    get: {
      summary: 'Public keys that sign receipts and checkpoints (current first, retired ones kept)',
      responses: {
        '200': {
          description: 'The keys.',
          content: {
            'application/json': {
              schema: ref('KeysResponse'),
            },
          },
        },
      },
    },
  },
  '/healthz': {
    get: {
      summary: 'Liveness and database reachability',
      responses: {
        '200': { description: 'Healthy.', content: { 'application/json': { schema: { type: 'object' } } } },
        '503': problem('The database does not answer.', ['unavailable']),
      },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (text exposition format)',
      responses: {
        '200': { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    },
  },
  '/assenso.js': {
    get: {
      summary:
        'The widget script (revalidated hourly); /{version}/assenso.js is the immutable, SRI-pinnable copy',
      responses: {
        '200': { description: 'The script.', content: { 'text/javascript': { schema: { type: 'string' } } } },
        '304': { description: 'Not modified (ETag).' },
        '404': problem('The widget is not built.', ['not-found']),
      },
    },
  },
};

/** The OpenAPI 3.1 document. */
export function openApiDocument(): Record<string, unknown> {
  const version = (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version: string })
    .version;
  const { $schema: _s, $id: _i, title: _t, ...receipt } = receiptJsonSchema() as Record<string, unknown>;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assenso receipt server',
      version,
      description: 'Consent receipts: ingest, current state, signing keys. See docs/protocol.md.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths: PATHS,
    components: { schemas: { Receipt: receipt, ...SCHEMAS } },
  };
}

/** The files as they should be committed. */
export function generatedDocs(): { file: URL; text: string }[] {
  return [
    { file: RECEIPT_SCHEMA_FILE, text: `${JSON.stringify(receiptJsonSchema(), null, 2)}\n` },
    { file: OPENAPI_FILE, text: `${JSON.stringify(openApiDocument(), null, 2)}\n` },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { file, text } of generatedDocs()) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current === text) continue;
    if (check) {
      stale++;
      console.error(`${file.pathname} is out of date: run npm run docs:schema`);
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${file.pathname}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
