/**
 * Issue 21: one set of HTTP rules. Every request the raw path can answer (the unfiltered /state under both
 * base paths, and a repeat of a query answered at this version: one target per route whose answers it
 * remembers) is sent, in every combination of method, token, conditional header and Accept-Encoding, to two
 * HTTP threads on the same store: one with the raw path, one with every request through Hono. Status, headers
 * (but Date) and body must be the same, byte for byte, and so must the request metrics each thread counted
 * (requests by label, and in flight). The histories, asked of the store every time (app.ts: ownContent), go
 * the same way and must never be answered by the raw path.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseProm, value } from '../helpers/prom.ts';
import { eventually } from '../helpers/sidecar.ts';
import { app, startHarness, task, type Answer } from './store-harness.ts';
import { API } from '../reliability/helpers.ts';

// the ids (x-parity-id) of the requests the raw path answered, so the test knows which path it compared
const rawAnswered = vi.hoisted(() => new Set<string>());
// while set, the raw path's compressed bodies wait for it: a request the raw path answers stays in flight
const compression = vi.hoisted(() => ({ held: null as Promise<void> | null }));
vi.mock('../../src/http/raw-path.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/http/raw-path.ts')>();
  return {
    ...real,
    rawPath: (deps: Parameters<typeof real.rawPath>[0]) => {
      const fast = real.rawPath({
        ...deps,
        compressed: async (cur, encoding) => {
          if (compression.held) await compression.held;
          return deps.compressed(cur, encoding);
        },
      });
      return (req: Parameters<typeof fast>[0], res: Parameters<typeof fast>[1]) => {
        const answered = fast(req, res);
        const id = req.headers['x-parity-id'];
        if (answered && typeof id === 'string') rawAnswered.add(id);
        return answered;
      };
    },
  };
});

const TOKEN = 'parity-token';
const WHOLE = [`${API}/state`, `/app-store${API}/state`];
/** A request target and what its answer must hold: a 200 of nothing (an empty list) checks no route's answer. */
interface Target { target: string; holds: string }
/**
 * Answered by Hono, then repeated by the raw path at the same version: one target per route of app.ts whose
 * answers are remembered (remembered-answers.ts). `cursor`: a next_cursor of the first page, as a client has it.
 */
const queries = (cursor: string): Target[] => [
  { target: `${API}/state?user_id=alice&app_name=app-3`, holds: '"app_name":"app-3"' },
  { target: `${API}/apps?limit=5`, holds: `"next_cursor":"${cursor}"` },
  { target: `${API}/apps?limit=5&cursor=${cursor}`, holds: '"app_name":"app-' },
  { target: `${API}/apps?user_id=alice&limit=5&include=chart_repo`, holds: '"user_id":"alice"' },
  { target: `/app-store${API}/overview`, holds: '"summary"' },
  { target: `/app-store${API}/tasks/t-1`, holds: '"task_id":"t-1"' },
  { target: `${API}/tasks?app_name=app-3`, holds: '"task_id":"t-3"' },
  { target: `${API}/apps/alice/market/app-1`, holds: '"app_name":"app-1"' },
  { target: `${API}/users/alice/apps`, holds: '"app_name":"app-1"' },
  { target: `${API}/users/alice/tasks`, holds: '"task_id":"t-1"' },
];
/** Asked of the store on every request (their content is their own): Hono answers them, never the raw path. */
const HISTORIES: Target[] = [
  { target: `${API}/apps/alice/market/app-1/history`, holds: '"entries":[{' },
  { target: `/app-store${API}/tasks/t-1/history`, holds: '"entries":[{' },
];
const METHODS = ['GET', 'HEAD'] as const;
const ENCODINGS = [undefined, 'gzip', 'br'] as const;
/** 'br copy': the tag of the target's br answer, as a client holding that copy sends it whatever it accepts now */
type Conditional = 'none' | 'match' | 'match in a list' | 'br copy' | 'other';
const CONDITIONALS: Conditional[] = ['none', 'match', 'match in a list', 'br copy', 'other'];

type Harness = Awaited<ReturnType<typeof startHarness>>;
/** What the client sends as Authorization, by name: none, one value, or the field repeated (one value a line). */
type Tokens = Record<string, string | string[] | undefined>;
type Twin = Awaited<ReturnType<Harness['twin']>>;

/** What a client sees of an answer, header lines as sent (names, case, order), but Date (the clock moves between the two). */
function seen(a: Answer) {
  const lines: string[] = [];
  for (let i = 0; i < a.rawHeaders.length; i += 2) if (a.rawHeaders[i]!.toLowerCase() !== 'date') lines.push(`${a.rawHeaders[i]}: ${a.rawHeaders[i + 1]}`);
  return { status: a.status, headers: lines, body: a.bytes.toString('base64') };
}

/** The request counter's lines of one thread's /metrics, sorted (its own scrape left out). */
async function requestCounts(send: Harness['send']): Promise<string[]> {
  const text = (await send('/metrics', 'GET', { Authorization: `Bearer ${TOKEN}` })).body;
  return text.split('\n').filter((l) => l.startsWith('market_runtime_http_requests_total{') && !l.includes('route="/metrics"')).sort();
}

/** One thread's requests in flight, less the /metrics request that reads them (in flight itself). */
async function inFlight(send: Harness['send']): Promise<number> {
  const text = (await send('/metrics', 'GET', { Authorization: `Bearer ${TOKEN}` })).body;
  return value(parseProm(text), 'market_runtime_http_requests_in_flight')! - 1;
}

async function pair(token: string | undefined) {
  const security = token ? { apiToken: token } : {};
  const h = await startHarness(['app_flow', 'tasks'], { security });
  const hono = await h.twin({ security, rawPath: false });
  // enough apps that the snapshot is compressed (gzip and br variants), and that a page of 5 has a next one
  const apps = Array.from({ length: 40 }, (_, i) => app(i % 2 ? 'alice' : 'bob', 'market', `app-${i}`));
  h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps }]);
  h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-1', 'app-1', 'alice'), task('t-3', 'app-3', 'alice', { status: 'running' })] }]);
  await h.settled(true);
  // the second page's cursor, as a client gets it (asked of both threads: their metrics stay comparable)
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const first = await h.send(`${API}/apps?limit=5`, 'GET', auth);
  await hono.send(`${API}/apps?limit=5`, 'GET', auth);
  expect(first.status).toBe(200);
  const cursor = (JSON.parse(first.body) as { data: { next_cursor: string | null } }).data.next_cursor;
  expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  return { h, hono, targets: { repeated: [...WHOLE.map((target) => ({ target, holds: '"app_states"' })), ...queries(cursor!)], histories: HISTORIES } };
}

type Targets = Awaited<ReturnType<typeof pair>>['targets'];

/**
 * Sends the whole matrix to both threads. `tokens`: what the client sends. Returns how many requests were
 * compared, and by target how many were sent and how many of them the raw path answered on the raw thread.
 */
async function compareAll(h: Harness, hono: Twin, targets: Targets, tokens: Tokens, right: Record<string, string>) {
  const all = [...targets.repeated, ...targets.histories];
  // the tag of each target and encoding, from a plain authorized GET (the raw path's thread); each target is
  // one the fixture answers, with what it must hold
  const tags = new Map<string, string>();
  for (const { target, holds } of all) {
    for (const enc of ENCODINGS) {
      const a = await h.send(target, 'GET', { ...right, ...(enc ? { 'Accept-Encoding': enc } : {}) });
      expect(a.status, target).toBe(200);
      tags.set(`${target} ${enc}`, String(a.headers.etag));
      // the same first request to the Hono thread: the two threads' metrics stay comparable
      const b = await hono.send(target, 'GET', { ...right, ...(enc ? { 'Accept-Encoding': enc } : {}) });
      expect(b.status, target).toBe(200);
      if (!enc) {
        expect(a.body, target).toContain(holds);
        expect(b.body, target).toContain(holds);
      }
    }
  }
  let n = 0;
  let compared = 0;
  const sent = new Map<string, number>();
  const answered = new Map<string, number>();
  const mismatches: string[] = [];
  for (const { target } of all) {
    for (const method of METHODS) {
      for (const [tokenName, auth] of Object.entries(tokens)) {
        for (const conditional of CONDITIONALS) {
          for (const enc of ENCODINGS) {
            const tag = tags.get(`${target} ${enc}`)!;
            const headers: Record<string, string | string[]> = {
              ...(auth === undefined ? {} : { Authorization: auth }),
              ...(enc ? { 'Accept-Encoding': enc } : {}),
              ...(conditional === 'match' ? { 'If-None-Match': tag } : {}),
              ...(conditional === 'match in a list' ? { 'If-None-Match': `"elsewhere", W/${tag}` } : {}),
              ...(conditional === 'br copy' ? { 'If-None-Match': tags.get(`${target} br`)! } : {}),
              ...(conditional === 'other' ? { 'If-None-Match': '"not-this-one"' } : {}),
            };
            const id = String((n += 1));
            const raw = await h.send(target, method, { ...headers, 'x-parity-id': id });
            const viaHono = await hono.send(target, method, headers);
            compared += 1;
            sent.set(target, (sent.get(target) ?? 0) + 1);
            if (rawAnswered.has(id)) answered.set(target, (answered.get(target) ?? 0) + 1);
            const what = `${method} ${target} token=${tokenName} if-none-match=${conditional} accept-encoding=${enc ?? 'none'}`;
            try {
              expect(seen(raw), what).toEqual(seen(viaHono));
            } catch (e) {
              mismatches.push(`${what} (raw path ${rawAnswered.has(id) ? 'answered' : 'stepped aside'}): ${(e as Error).message}`);
            }
          }
        }
      }
    }
  }
  expect(mismatches.slice(0, 5)).toEqual([]);
  return { compared, sent, answered };
}

/** By target, how many requests the raw path answered, given how many of those sent it should answer (`share`). */
function expectedAnswered(targets: Targets, sent: Map<string, number>, share: number): Map<string, number> {
  return new Map([
    ...targets.repeated.map(({ target }) => [target, sent.get(target)! * share] as const),
    ...targets.histories.map(({ target }) => [target, 0] as const),
  ].filter(([, count]) => count > 0));
}

/** Both threads counted the same requests under the same labels, and left the in-flight gauge as they found it. */
async function countedAlike(h: Harness, hono: Twin): Promise<void> {
  const [raw, viaHono] = [await requestCounts(h.send), await requestCounts(hono.send)];
  expect(raw.length).toBeGreaterThan(10);
  expect(raw).toEqual(viaHono);
  expect([await inFlight(h.send), await inFlight(hono.send)]).toEqual([0, 0]);
}

describe('the raw path and Hono answer alike (token configured)', () => {
  let h: Harness;
  let hono: Twin;
  let targets: Targets;
  beforeAll(async () => {
    ({ h, hono, targets } = await pair(TOKEN));
  });
  afterAll(() => h?.close());

  it('every method × token × conditional × encoding on /state, repeated queries and histories: same status, headers and bytes', async () => {
    rawAnswered.clear();
    const right = { Authorization: `Bearer ${TOKEN}` };
    // the field repeated: node keeps the first of them, Hono's request joins them all
    const tokens: Tokens = {
      none: undefined, wrong: 'Bearer not-the-token', right: right.Authorization,
      'right twice': [right.Authorization, right.Authorization], 'right, then wrong': [right.Authorization, 'Bearer not-the-token'],
    };
    const { compared, sent, answered } = await compareAll(h, hono, targets, tokens, right);
    expect(compared).toBe((targets.repeated.length + targets.histories.length) * METHODS.length * 5 * CONDITIONALS.length * ENCODINGS.length);
    // the raw path answered every request with the one right token to each target it can repeat (the comparison
    // is of the two paths), none without it or with the field repeated, and no request for a history
    expect(answered).toEqual(expectedAnswered(targets, sent, 1 / 5));
  });

  it('both threads counted the same requests under the same labels', () => countedAlike(h, hono));
});

describe('the raw path and Hono answer alike (no token configured)', () => {
  let h: Harness;
  let hono: Twin;
  let targets: Targets;
  beforeAll(async () => {
    ({ h, hono, targets } = await pair(undefined));
  });
  afterAll(() => h?.close());

  it('every method × conditional × encoding, with and without an Authorization header: same status, headers and bytes', async () => {
    rawAnswered.clear();
    const tokens: Tokens = { none: undefined, 'some bearer': 'Bearer anything', 'two bearers': ['Bearer anything', 'Bearer other'] };
    const { compared, sent, answered } = await compareAll(h, hono, targets, tokens, {});
    expect(compared).toBe((targets.repeated.length + targets.histories.length) * METHODS.length * 3 * CONDITIONALS.length * ENCODINGS.length);
    // no token configured: every request for a target it can repeat is the raw path's to answer; a history never
    expect(answered).toEqual(expectedAnswered(targets, sent, 1));
  });

  it('both threads counted the same requests under the same labels', () => countedAlike(h, hono));

  it('a Host that Hono refuses is refused on the raw path\'s thread too; one it accepts otherwise written is answered alike', async () => {
    for (const host of ['bad host', 'LOCALHOST:80', '[::1]:8080']) {
      const raw = await h.send('/api/v2/runtime/state', 'GET', { Host: host });
      const viaHono = await hono.send('/api/v2/runtime/state', 'GET', { Host: host });
      expect(seen(raw), host).toEqual(seen(viaHono));
    }
    expect((await h.send('/api/v2/runtime/state', 'GET', { Host: 'bad host' })).status).toBe(400);
  });

  it('a request the raw path is answering counts as in flight until it is answered', async () => {
    let release!: () => void;
    compression.held = new Promise((r) => { release = r; });
    try {
      rawAnswered.clear();
      const answer = h.send(WHOLE[0]!, 'GET', { 'Accept-Encoding': 'gzip', 'x-parity-id': 'held' });
      await eventually(async () => expect(await inFlight(h.send)).toBe(1));
      expect(rawAnswered.has('held')).toBe(true);
      release();
      expect((await answer).status).toBe(200);
    } finally {
      compression.held = null;
      release();
    }
    expect(await inFlight(h.send)).toBe(0);
  });
});
