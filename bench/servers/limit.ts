// The ceiling: a bare node:http server answering with the identical bytes from memory — the same body and,
// when given, the same response headers as the sidecar (argv: port, body file, [headers JSON file]).
import { readFileSync } from 'node:fs';
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import { pinTickShape } from '../../src/tick-shape.ts';

// the ceiling stays the ceiling: like the sidecar's HTTP thread, keep nextTick on V8's fast path through idle
// GCs between scenarios (without it a bare server falls onto the same slow path once those GCs have run)
pinTickShape();

const [port, file, headersFile] = process.argv.slice(2);
const body = readFileSync(file!);
const given = headersFile
  ? JSON.parse(readFileSync(headersFile, 'utf8')) as { etag: string; ok: OutgoingHttpHeaders; notModified: OutgoingHttpHeaders }
  : null;
const etag = given?.etag ?? '"limit"';
const ok: OutgoingHttpHeaders = given?.ok ?? { 'Content-Type': 'application/json; charset=utf-8', ETag: etag };
const notModified: OutgoingHttpHeaders = given?.notModified ?? { ETag: etag };
ok['Content-Length'] = body.length;
createServer((req, res) => {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, notModified);
    res.end();
    return;
  }
  res.writeHead(200, ok);
  res.end(body);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
