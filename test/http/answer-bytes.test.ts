/**
 * The HTTP thread lets go of a store answer's bytes as soon as nothing holds them (the answer caches, a response
 * writing it), rather than when V8 next collects in full; and never while something still does.
 */
import { EventEmitter, once } from 'node:events';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { get, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerBytes } from '../../src/http/answer-bytes.ts';
import { envelopeJson, OK_MESSAGE } from '../../src/model/index.ts';
import { app, startHarness } from './store-harness.ts';
import { eventually } from '../helpers/sidecar.ts';

const storeAnswer = (text: string) => Buffer.from(new TextEncoder().encode(text).buffer);
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('AnswerBytes', () => {
  it('frees an answer once its last holder lets go, not before', () => {
    const bytes = new AnswerBytes();
    const body = storeAnswer('{"success":true}');
    bytes.own(body);
    bytes.hold(body); // a cache
    bytes.hold(body); // the other cache
    bytes.release(body);
    expect(body.toString()).toBe('{"success":true}');
    bytes.release(body);
    expect(body.byteLength).toBe(0);
    expect(bytes.freed).toBe(16);
  });

  it('keeps an answer a response is still writing, and frees it when the response finishes', () => {
    const bytes = new AnswerBytes();
    const body = storeAnswer('{"data":1}');
    const res = response();
    bytes.own(body);
    bytes.hold(body);
    bytes.whileWriting(body, res);
    bytes.release(body); // the cache let go while the response writes
    expect(body.toString()).toBe('{"data":1}');
    res.emit('finish');
    expect(body.byteLength).toBe(0);
  });

  it('leaves to the collector an answer whose response never finished (the kernel may still read it)', () => {
    const bytes = new AnswerBytes();
    const body = storeAnswer('{"data":2}');
    const res = response();
    bytes.own(body);
    bytes.whileWriting(body, res);
    res.emit('close');
    expect(body.toString()).toBe('{"data":2}');
  });

  it('never touches bytes it was not given as a store answer: a view into a pool, or a body never owned', () => {
    const bytes = new AnswerBytes();
    const pooled = Buffer.from('{"small":true}'); // Node's buffer pool: other buffers share it
    const other = storeAnswer('{"other":true}');
    for (const body of [pooled, other]) {
      bytes.own(pooled);
      bytes.hold(body);
      bytes.release(body);
      bytes.whileWriting(body, response());
    }
    expect(pooled.toString()).toBe('{"small":true}');
    expect(other.toString()).toBe('{"other":true}');
    expect(bytes.freed).toBe(0);
  });
});

describe('answers of a version gone, on the HTTP thread', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  const answerBytes = () => (h.http as unknown as { answerBytes: AnswerBytes }).answerBytes;
  const users = Array.from({ length: 8 }, (_, i) => `user${i}`);
  const apps = (version: number) => users.flatMap((u) => Array.from({ length: 20 }, (_, i) =>
    app(u, 'market', `app${i}`, { stage: i === 0 && version % 2 === 1 ? 'stopped' : 'running' })));

  beforeAll(async () => {
    h = await startHarness(['app_flow']);
  });
  afterAll(() => h?.close());

  it('are freed when the version moves, while every answer, first, kept or repeated, is whole', async () => {
    let keptBytes = 0;
    let freedBefore = 0;
    for (let version = 0; version < 4; version++) {
      h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps(version) }]);
      await h.settled(true);
      // the answers kept at the version before (one per user, in both caches) went when this one arrived
      expect(answerBytes().freed - freedBefore).toBe(keptBytes);
      keptBytes = 0;
      // each user three times: the store's answer, the one kept from the second asking, the raw path's repeat
      for (let round = 0; round < 3; round++) {
        for (const u of users) {
          const res = await h.send(`/api/v2/runtime/state?user_id=${u}`);
          expect(res.status).toBe(200);
          expect(res.body).toBe(envelopeJson(true, OK_MESSAGE, h.store.store.state({ user_id: u })));
          if (round === 1) keptBytes += Buffer.byteLength(res.body);
        }
      }
      freedBefore = answerBytes().freed;
    }
    expect(keptBytes).toBeGreaterThan(8 * 1000);
  });
});

describe('/state bodies of versions gone, on the HTTP thread', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  const answerBytes = () => (h.http as unknown as { answerBytes: AnswerBytes }).answerBytes;
  // ~20 MB bodies: more than the kernel takes at once from a client that does not read
  const apps = (version: number) => Array.from({ length: 2500 }, (_, i) =>
    app(`user${i % 50}`, 'market', `app${i}`, { stage_detail: `${version}`.padEnd(8000, '.') }));

  beforeAll(async () => {
    h = await startHarness(['app_flow']);
  });
  afterAll(() => h?.close());

  it('a reader still receiving a body of a version gone gets it whole; the body is freed once it is written', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps(1) }]);
    await h.settled(true);
    const first = await h.send('/api/v2/runtime/state');
    expect(first.body.length).toBeGreaterThan(20_000_000);

    // a slow reader of the same version: asks, then reads nothing for now
    const slow = connect(h.port, '127.0.0.1');
    const received: Buffer[] = [];
    slow.on('data', (d: Buffer) => received.push(d));
    await once(slow, 'connect');
    slow.pause();
    slow.write('GET /api/v2/runtime/state HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    // the server is writing this version's body to it (the first bytes wait, unread, in its socket)
    await eventually(async () => expect(slow.readableLength).toBeGreaterThan(0));

    // the version moves on and a poller fetches the new body (gzip too): the thread keeps only that one now
    const freedBefore = answerBytes().freed;
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps(2) }]);
    await h.settled(true);
    const second = await h.send('/api/v2/runtime/state');
    expect(second.body).toContain('"stage_detail":"2....');
    const zipped = await h.send('/api/v2/runtime/state', 'GET', { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.bytes).toString()).toBe(second.body);
    // (still being written to the slow reader: not freed)
    expect(answerBytes().freed - freedBefore).toBe(0);

    slow.resume();
    await once(slow, 'end');
    const whole = Buffer.concat(received).toString();
    expect(whole.slice(whole.indexOf('\r\n\r\n') + 4)).toBe(first.body);
    expect(answerBytes().freed - freedBefore).toBe(Buffer.byteLength(first.body));
  });

  it('a stream client still receiving its snapshot (the version\'s body) gets it whole after a newer body came', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps(3) }]);
    await h.settled(true);
    const first = await h.send('/api/v2/runtime/state');
    const freedBefore = answerBytes().freed;

    // a stream client that reads nothing for now: its snapshot, this version's ~20 MB body, waits in the server
    const chunks: Buffer[] = [];
    const res = await new Promise<IncomingMessage>((resolve) => get(`http://127.0.0.1:${h.port}/api/v2/runtime/events`, resolve));
    res.on('data', (d: Buffer) => chunks.push(d));
    res.pause();
    // attached: its snapshot is written (and mostly unsent)
    await eventually(async () => expect(h.http.stream.size).toBe(1));

    // the version moves on and a poller fetches the new body: the thread lets the old one go
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps(4) }]);
    await h.settled(true);
    expect((await h.send('/api/v2/runtime/state')).body).toContain('"stage_detail":"4....');

    res.resume();
    await eventually(async () => expect(Buffer.concat(chunks).toString()).toMatch(/event: snapshot\ndata: [^\n]*\n\n/));
    res.destroy();
    const text = Buffer.concat(chunks).toString();
    const snapshot = /event: snapshot\ndata: ([^\n]*)\n\n/.exec(text)![1]!;
    expect(JSON.parse(snapshot)).toEqual(JSON.parse(first.body).data);
    // once written, its bytes were freed
    await eventually(async () => expect(answerBytes().freed - freedBefore).toBeGreaterThanOrEqual(Buffer.byteLength(first.body)));
  });
});
