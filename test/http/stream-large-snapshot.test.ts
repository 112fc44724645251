/**
 * A market's snapshot passes the stream's 8 MiB client buffer from a few thousand apps on (19 MB at 10,000):
 * a new client still gets it, and is cut off only for what piles up behind it; snapshots being sent to many
 * clients at once are bounded together, so a crowd of new clients cannot buffer the sidecar out of memory.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySummary } from '../../src/model/index.ts';
import type { VersionMessage } from '../../src/protocol.ts';
import { ChangeStream, STREAM_LIMITS, type Attached } from '../../src/http/stream.ts';
import { eventually } from '../helpers/sidecar.ts';

const MiB = 1024 * 1024;

/** A version changing one app whose JSON is `bytes` long. */
const version = (v: number, bytes = 10): VersionMessage => ({
  type: 'version', epoch: 'a', version: v, content: `c${v}`, timestamp: '2026-12-01T10:00:00Z', ready: true,
  summary: emptySummary(), size_hint: 0,
  changes: { app_states: [{ key: `u:s:app${v}`, json: JSON.stringify({ pad: 'x'.repeat(bytes) }) }], tasks: [], components: [] },
});

/** A snapshot `bytes` long (valid JSON). */
const snapshotOf = (bytes: number) => ({ version: 1, content: 'c1', json: JSON.stringify({ pad: 'y'.repeat(bytes) }) });

describe('the change stream with a snapshot larger than a client\'s buffer', () => {
  const closers: (() => void)[] = [];
  afterEach(() => { for (const c of closers.splice(0)) c(); });

  /**
   * A server that attaches every request to `stream` with a snapshot of `snapshotBytes`: a string of its own for
   * each client (as a filtered snapshot is), or `shared`, views of one version's body bytes (as the unfiltered).
   */
  async function serve(stream: ChangeStream, snapshotBytes: number, shared = false) {
    const attached: Attached[] = [];
    const responses: ServerResponse[] = [];
    const body = Buffer.from(snapshotOf(snapshotBytes).json);
    const snapshot = () => shared ? { ...snapshotOf(0), json: body.subarray(0) } : snapshotOf(snapshotBytes);
    const server: Server = createServer((_req, res) => {
      responses.push(res);
      void stream.connect(res, null, '', undefined, async () => snapshot()).then((a) => {
        attached.push(a);
        if (a !== 'attached') res.writeHead(503).end(a);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => { stream.closeAll(); server.closeAllConnections(); server.close(); });
    return { port: (server.address() as AddressInfo).port, attached, responses };
  }

  /** A client that sends its request and reads nothing (paused): what it was sent stays in the sidecar's buffers. */
  function stalledClient(port: number): Socket {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.pause();
    closers.push(() => socket.destroy());
    return socket;
  }

  it('a client that reads gets the whole snapshot and the changes after it', async () => {
    const stream = new ChangeStream();
    stream.onVersion(version(1));
    const { port } = await serve(stream, 12 * MiB);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    let sentChange = false;
    while (!text.includes('event: change')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!sentChange && text.includes('event: snapshot')) {
        sentChange = true;
        stream.onVersion(version(2));
      }
    }
    await reader.cancel();
    expect(text.indexOf('event: snapshot')).toBeGreaterThanOrEqual(0);
    expect(text.length).toBeGreaterThan(12 * MiB);
    expect(text).toContain('"u:s:app2"');
    expect(stream.cutOff).toBe(0);
  });

  it('a client that stops reading is cut off for the changes piled up behind its snapshot, not for the snapshot', async () => {
    const stream = new ChangeStream();
    stream.onVersion(version(1));
    const { port, attached } = await serve(stream, 12 * MiB);
    stalledClient(port);
    await eventually(async () => expect(attached).toEqual(['attached']));
    expect(stream.cutOff).toBe(0);
    expect(stream.size).toBe(1);
    // changes of 1 MiB each: the client is cut off once they pass its buffer, whatever of the snapshot is unsent
    for (let v = 2; v < 2 + STREAM_LIMITS.clientBufferBytes / MiB + 2; v += 1) stream.onVersion(version(v, MiB));
    expect(stream.cutOff).toBe(1);
    expect(stream.size).toBe(0);
  });

  it('a new client waits (503) while other clients\' snapshots would pass their bound together, and is let in after', async () => {
    const stream = new ChangeStream();
    stream.onVersion(version(1));
    const size = STREAM_LIMITS.snapshotBytesInFlight / 2 + MiB;
    const { port, attached, responses } = await serve(stream, size);
    stalledClient(port);
    await eventually(async () => expect(attached).toEqual(['attached']));
    stalledClient(port);
    await eventually(async () => expect(attached).toEqual(['attached', 'busy']));
    // the first client goes: the next one is let in
    responses[0]!.destroy();
    stalledClient(port);
    await eventually(async () => expect(attached).toEqual(['attached', 'busy', 'attached']));
  });

  it('clients whose snapshot is the same version\'s body share its bytes: they all get in, and it counts once', async () => {
    const stream = new ChangeStream();
    stream.onVersion(version(1));
    const { port, attached } = await serve(stream, STREAM_LIMITS.snapshotBytesInFlight / 2 + MiB, true);
    for (let i = 0; i < 4; i++) stalledClient(port);
    await eventually(async () => expect(attached).toEqual(['attached', 'attached', 'attached', 'attached']));
    expect(stream.size).toBe(4);
  });
});
