// The ceiling: a bare node:http server answering the identical bytes from memory (argv: port, body file).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, file] = process.argv.slice(2);
const body = readFileSync(file!);
const empty = Buffer.alloc(0);
createServer((req, res) => {
  if (req.headers['if-none-match'] === '"limit"') {
    res.writeHead(304, { ETag: '"limit"' });
    res.end(empty);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, ETag: '"limit"' });
  res.end(body);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
