/**
 * The benchmark's slow clients decide whether `npm run bench -- --smoke` fails on a quiet market (a 200 to a
 * conditional poll, a change event): their counts must be right, or the check passes without looking.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pollConditionally, readStreams } from '../../bench/lib/clients.ts';

let server: Server | null = null;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = null;
});

describe('conditional pollers', () => {
  const BODY = 'x'.repeat(1234);

  it('count 304s against the ETag they hold, and no body bytes, while nothing changes', async () => {
    let freshness = 0;
    const base = await serve((req, res) => {
      res.setHeader('X-Runtime-Fresh-As-Of', `t${++freshness}`);
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { ETag: '"v1"' }).end();
        return;
      }
      res.writeHead(200, { ETag: '"v1"', 'Content-Length': BODY.length }).end(BODY);
    });
    const r = await pollConditionally(`${base}/state`, { clients: 3, periodMs: 100, seconds: 0.5 });
    expect(r.polls).toBeGreaterThan(0);
    expect(r.notModified).toBe(r.polls);
    expect([r.full, r.errors, r.bytes, r.withoutFreshness]).toEqual([0, 0, 0, 0]);
    expect(r.notModifiedPct).toBe(100);
    expect(r.etags).toBe(1);
    // the priming answers count apart: every poll in the window carried a new freshness value
    expect(r.freshnessValues).toBe(r.polls);
  });

  it('count every 200, its body bytes and each new ETag when every answer is a new version', async () => {
    let version = 0;
    const base = await serve((_req, res) => {
      res.writeHead(200, { ETag: `"v${++version}"`, 'Content-Length': BODY.length }).end(BODY);
    });
    const r = await pollConditionally(`${base}/state`, { clients: 2, periodMs: 100, seconds: 0.5 });
    expect(r.polls).toBeGreaterThan(0);
    expect(r.full).toBe(r.polls);
    expect(r.notModified).toBe(0);
    expect(r.bytes).toBe(r.polls * BODY.length);
    expect(r.etags).toBe(version);
    expect(r.withoutFreshness).toBe(r.polls);
  });

  it('count answers that are neither 200 nor 304 as errors', async () => {
    let n = 0;
    const base = await serve((_req, res) => {
      if (n++ < 2) res.writeHead(200, { ETag: '"v1"' }).end('{}');
      else res.writeHead(503).end();
    });
    const r = await pollConditionally(`${base}/state`, { clients: 2, periodMs: 100, seconds: 0.3 });
    expect(r.errors).toBe(r.polls);
    expect(r.polls).toBeGreaterThan(0);
  });
});

describe('stream readers', () => {
  it('count change and freshness events and heartbeats after the snapshot, whatever the chunking', async () => {
    const clients: ServerResponse[] = [];
    const snapshot = `id: e-1\nevent: snapshot\ndata: {"apps":"${'a'.repeat(5000)}"}\n\n`;
    const later = 'id: e-2\nevent: change\ndata: {"version":2}\n\n'
      + 'event: freshness\ndata: {"fresh_as_of":"t1"}\n\n'
      + ': heartbeat\n\n'
      + 'id: e-3\nevent: change\ndata: {"version":3}\n\n'
      + 'event: freshness\ndata: {"fresh_as_of":"t2"}\n\n';
    let opened = 0;
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('retry: 2000\n\n');
      // the snapshot in pieces that split a line, as TCP may
      for (let i = 0; i < snapshot.length; i += 700) res.write(snapshot.slice(i, i + 700));
      clients.push(res);
      if (++opened < 2) return;
      // once both streams are open: the same events to each, split inside "event: change"
      setTimeout(() => {
        for (const c of clients) {
          c.write(later.slice(0, 20));
          c.write(later.slice(20));
        }
      }, 200);
    });
    const r = await readStreams(`${base}/events`, { clients: 2, seconds: 1 });
    expect(r.connected).toBe(2);
    expect(r.snapshots).toBe(2);
    expect(r.changes).toBe(4);
    expect(r.maxChangesPerClient).toBe(2);
    expect(r.freshness).toBe(4);
    expect(r.heartbeats).toBe(2);
    expect(r.bytesAfterSnapshotPerClient).toBe(Buffer.byteLength(later));
  });

  it('report clients whose stream never opened', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"success":false}');
    });
    const r = await readStreams(`${base}/events`, { clients: 2, seconds: 0.2, openTimeoutMs: 500 });
    expect(r.connected).toBe(0);
    expect(r.changes).toBe(0);
  });
});
