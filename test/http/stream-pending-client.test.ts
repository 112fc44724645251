/**
 * A stream client ended while its snapshot is still being fetched (a new store's epoch, an oversize version,
 * shutdown) has had nothing written: it is answered as a client the store could not serve (`unavailable`, a 503
 * it retries), never a bare 200 that ends at once followed by a second head (ERR_HTTP_HEADERS_SENT on stderr).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySummary } from '../../src/model/index.ts';
import type { VersionMessage } from '../../src/protocol.ts';
import { ChangeStream, type Attached, type StreamSnapshot } from '../../src/http/stream.ts';

const version = (epoch: string, v: number, oversize = false): VersionMessage => ({
  type: 'version', epoch, version: v, content: `c${v}`, timestamp: '2026-12-01T10:00:00Z', ready: true,
  summary: emptySummary(), size_hint: 0,
  changes: { app_states: [], tasks: [], components: [], ...(oversize ? { oversize: true as const } : {}) },
});

/** One request to a server whose handler connects it to `stream` with a snapshot the test releases. */
async function pendingClient(stream: ChangeStream) {
  let release!: (s: StreamSnapshot) => void;
  const snapshot = new Promise<StreamSnapshot>((r) => { release = r; });
  let attached!: Promise<Attached>;
  let out!: ServerResponse;
  const server = createServer((_req, res) => {
    out = res;
    attached = stream.connect(res, null, '', undefined, () => snapshot);
    void attached.then((a) => {
      if (a !== 'attached') res.writeHead(503).end(a);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const answer = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).then(async (r) => ({ status: r.status, text: await r.text() }));
  while (!attached) await new Promise((r) => setTimeout(r, 5));
  return { server, answer, release: () => release({ version: 1, content: 'c1', json: '{}' }), attached, out: () => out };
}

describe('a stream client whose snapshot is pending', () => {
  const servers: { close(): void }[] = [];
  afterEach(() => { for (const s of servers.splice(0)) s.close(); });

  it.each([
    ['a new store\'s epoch', (s: ChangeStream) => s.onVersion(version('b', 1))],
    ['an oversize version', (s: ChangeStream) => s.onVersion(version('a', 2, true))],
    ['shutdown', (s: ChangeStream) => s.closeAll()],
  ])('is answered 503 when %s ends it meanwhile, with one head', async (_what, endIt) => {
    const stream = new ChangeStream();
    stream.onVersion(version('a', 1));
    const c = await pendingClient(stream);
    servers.push(c.server);
    endIt(stream);
    // nothing was written for it while it waited
    expect(c.out().headersSent).toBe(false);
    c.release();
    expect(await c.attached).toBe('unavailable');
    expect(await c.answer).toEqual({ status: 503, text: 'unavailable' });
    stream.closeAll();
  });

  it('gets its snapshot when nothing ends it', async () => {
    const stream = new ChangeStream();
    stream.onVersion(version('a', 1));
    const c = await pendingClient(stream);
    servers.push(c.server);
    c.release();
    expect(await c.attached).toBe('attached');
    expect(c.out().headersSent).toBe(true);
    stream.closeAll();
    const { status, text } = await c.answer;
    expect(status).toBe(200);
    expect(text).toContain('event: snapshot');
  });
});
