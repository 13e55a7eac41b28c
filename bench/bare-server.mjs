// The ingest baseline: a bare Node HTTP server that reads the body, parses the JSON and answers 201.
// Everything `assenso serve` does beyond this (validation, CORS, signing, the database commit) is what the
// benchmark's ratio prices. Run as its own process, like the real server: `node bench/bare-server.mjs PORT`.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const n = Array.isArray(body?.receipts) ? body.receipts.length : 0;
      const out = JSON.stringify({ accepted: n });
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    } catch {
      res.writeHead(400).end();
    }
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
