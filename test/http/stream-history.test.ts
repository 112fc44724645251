/**
 * The change stream's history (what a client resuming with Last-Event-ID is replayed) never holds more than the
 * `/state` body's size: past that, a resuming client gets a snapshot, which costs it fewer bytes than the replay.
 * A small market keeps a floor of history, a large one the fixed bound.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySummary } from '../../src/model/index.ts';
import type { VersionMessage } from '../../src/protocol.ts';
import { ChangeStream, historyBound, STREAM_LIMITS } from '../../src/http/stream.ts';

const ITEM_CHARS = 100_000;

/** Version `v` of epoch `a`: one component changed, its JSON ~100 kB; the /state body is about `stateBytes`. */
const version = (v: number, stateBytes: number): VersionMessage => ({
  type: 'version', epoch: 'a', version: v, content: `c${v}`, timestamp: '2026-12-01T10:00:00Z', ready: true,
  summary: emptySummary(), size_hint: stateBytes,
  changes: { app_states: [], tasks: [], components: [{ key: `part${v}`, json: JSON.stringify({ name: `part${v}`, pad: 'x'.repeat(ITEM_CHARS) }) }] },
});

/** What a client resuming after version `after` is sent first: the events' names, up to the latest version's. */
async function resumeAfter(stream: ChangeStream, after: number, latest: number): Promise<string[]> {
  const server: Server = createServer((_req, res) => {
    void stream.connect(res, null, '', `a-${after}.c${after}`, async () => ({ version: latest, content: `c${latest}`, json: '{}' }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ac = new AbortController();
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(`id: a-${latest}.c${latest}\n`)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  ac.abort();
  return [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]!);
}

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.close(); });

describe('the change stream history a resuming client is replayed', () => {
  it('is bounded by the /state body size, between a floor and the fixed bound', () => {
    expect(historyBound(0)).toBe(STREAM_LIMITS.historyFloorBytes);
    expect(historyBound(2_000_000)).toBe(2_000_000);
    expect(historyBound(90_000_000)).toBe(STREAM_LIMITS.historyBytes);
  });

  it('replays what fits in a body\'s size, and sends a snapshot to a client further behind', async () => {
    // ~200 kB counted a version (its event and its changes): a 1 MB body keeps the last 5 versions
    const stream = new ChangeStream();
    for (let v = 1; v <= 20; v++) stream.onVersion(version(v, 1_000_000));
    expect(await resumeAfter(stream, 17, 20)).toEqual(['change', 'change', 'change']);
    expect(await resumeAfter(stream, 10, 20)).toEqual(['snapshot']);
    stream.closeAll();
  });

  it('keeps more versions for a market whose body is larger', async () => {
    const stream = new ChangeStream();
    for (let v = 1; v <= 20; v++) stream.onVersion(version(v, 3_000_000));
    expect(await resumeAfter(stream, 10, 20)).toEqual(Array(10).fill('change'));
    stream.closeAll();
  });
});
