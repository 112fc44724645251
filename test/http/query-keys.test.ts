/**
 * Issue 18.1: one query is never served another's answer. Filter values full of `&`, `=`, `%`, `+`, spaces
 * and unicode, empty or repeated, through every query route and both base paths: each answer (the first,
 * which Hono computes or takes from the response cache, and the repeats, which the raw path writes from
 * what it remembered for that request target) equals what the store computes for that query right now; two
 * different queries never touch the same cache entry and never get the same ETag (not even when their answers
 * are the same bytes); one ETag never names two bodies.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorBody } from '../../src/http/envelope.ts';
import type { RememberedAnswers } from '../../src/http/remembered-answers.ts';
import type { ResponseCache } from '../../src/http/response-cache.ts';
import { APP_STAGES, envelopeJson, OK_MESSAGE, TASK_STATUSES, TASK_TYPES } from '../../src/model/index.ts';
import type { StateFilter } from '../../src/protocol.ts';
import { decodeCursor, encodeCursor } from '../../src/store/page-cursor.ts';
import { app, startHarness, task, type Answer } from './store-harness.ts';
import { contentOf } from '../helpers/body-content.ts';

const FILTER_KEYS = ['user_id', 'source_id', 'app_name', 'task_status', 'task_type', 'stuck'] as const;
const APPS_FILTERS = ['user_id', 'source_id', 'app_name', 'stuck', 'stage', 'health'] as const;
const APPS_KEYS = [...APPS_FILTERS, 'limit', 'cursor'] as const;
const HEALTHS = ['healthy', 'unhealthy', 'unknown'];

/** Identifier values: the ones the store holds, and ones that look like query syntax. */
const POOL = ['alice', 'alice&app_name=firefox', 'firefox', 'bob', 'a=b', '100%', '%26', 'a+b', 'a b', ' alice', 'ünï', '日本', '😀', 'x%2By', '&', '='];
const CHARS = ['a', 'b', '&', '=', '%', '+', ' ', '#', '?', '/', 'é', '日', '😀', '2', '6', 'F'];
const value = fc.oneof(fc.constantFrom(...POOL), fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 8 }));
/** A path segment: never empty or a dot segment (URL parsing removes those before any route sees them). */
const segment = value.filter((s) => s !== '' && s !== '.' && s !== '..');

type Encoding = 'component' | 'form' | 'minimal';
const encoding = fc.constantFrom<Encoding>('component', 'form', 'minimal');

function encodeValue(v: string, how: Encoding): string {
  if (how === 'form') return new URLSearchParams([['x', v]]).toString().slice(2);
  const c = encodeURIComponent(v);
  // only what must be escaped in a query value: `=`, `/`, `?` stay literal
  return how === 'minimal' ? c.replace(/%3D/g, '=').replace(/%2F/g, '/').replace(/%3F/g, '?') : c;
}

function queryString(params: Array<[string, string]>, how: Encoding): string {
  return params.length === 0 ? '' : '?' + params.map(([k, v]) => `${k}=${encodeValue(v, how)}`).join('&');
}

type Query =
  | { kind: 'state'; params: Array<[string, string]>; how: Encoding }
  | { kind: 'app'; u: string; s: string; a: string }
  | { kind: 'app-history'; u: string; s: string; a: string }
  | { kind: 'task'; id: string }
  | { kind: 'task-history'; id: string }
  | { kind: 'tasks'; params: Array<[string, string]>; how: Encoding }
  | { kind: 'apps'; params: Array<[string, string]>; how: Encoding }
  | { kind: 'user-apps'; u: string }
  | { kind: 'user-tasks'; u: string };

const stateParam = fc.oneof(
  fc.tuple(fc.constantFrom('user_id', 'source_id', 'app_name'), value),
  fc.tuple(fc.constant('task_status'), fc.constantFrom('', ...TASK_STATUSES)),
  fc.tuple(fc.constant('task_type'), fc.constantFrom('', ...TASK_TYPES)),
  fc.tuple(fc.constant('stuck'), fc.constantFrom('', 'true', 'false')),
  // not a filter: ignored, but part of the request target
  fc.tuple(fc.constant('other'), value),
);

const appsParam = fc.oneof(
  fc.tuple(fc.constantFrom('user_id', 'source_id', 'app_name'), value),
  fc.tuple(fc.constant('stuck'), fc.constantFrom('', 'true', 'false', 'maybe')),
  // equal stages written differently, and bad ones
  fc.tuple(fc.constant('stage'), fc.constantFrom('', ...APP_STAGES, ' running', 'stopped ', 'Running', 'running&stage=failed')),
  fc.tuple(fc.constant('health'), fc.constantFrom('', ...HEALTHS, ' healthy', 'unknown ', 'Unknown', 'sick')),
  // equal limits written differently, and bad ones (a space is not trimmed from a limit)
  fc.tuple(fc.constant('limit'), fc.constantFrom('', '1', '2', ' 2', '02', '1000', '0', '1001', 'abc', '+2', '2.0')),
  // cursors of keys the store holds (or may), with query syntax in them, and garbage
  fc.tuple(fc.constant('cursor'), fc.oneof(
    fc.tuple(value, fc.constantFrom('market', 'a&b'), value).map(([u, s, a]) => encodeCursor(`${u}:${s}:${a}`)),
    fc.constantFrom('', 'garbage', 'e30', encodeCursor('') + 'x'),
  )),
  fc.tuple(fc.constant('other'), value),
);

const query: fc.Arbitrary<Query> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('apps' as const), params: fc.array(appsParam, { maxLength: 4 }), how: encoding }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('state' as const), params: fc.array(stateParam, { maxLength: 4 }), how: encoding }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('app' as const), u: segment, s: segment, a: segment }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('app-history' as const), u: segment, s: segment, a: segment }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('task' as const), id: segment }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('task-history' as const), id: segment }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('tasks' as const),
      params: fc.array(fc.tuple(fc.constantFrom('app_name', 'user_id'), value), { maxLength: 3 }),
      how: encoding,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('user-apps' as const), u: segment }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('user-tasks' as const), u: segment }) },
);

const base = fc.constantFrom('/api/v2/runtime', '/app-store/api/v2/runtime');

/**
 * A query that an unescaped key would confuse with `q`: its parameters after the first folded into the first
 * value (`user_id=alice&app_name=firefox` -> user_id `alice&app_name=firefox`), sent escaped.
 */
function folded(q: Query): Query | null {
  if ((q.kind !== 'state' && q.kind !== 'tasks' && q.kind !== 'apps') || q.params.length < 2) return null;
  const [[k0, v0], ...rest] = q.params;
  return { ...q, params: [[k0, [v0, ...rest.map(([k, v]) => `${k}=${v}`)].join('&')]], how: 'component' };
}

function target(b: string, q: Query): string {
  const seg = encodeURIComponent;
  switch (q.kind) {
    case 'state': return `${b}/state${queryString(q.params, q.how)}`;
    case 'app': return `${b}/apps/${seg(q.u)}/${seg(q.s)}/${seg(q.a)}`;
    case 'app-history': return `${b}/apps/${seg(q.u)}/${seg(q.s)}/${seg(q.a)}/history`;
    case 'task': return `${b}/tasks/${seg(q.id)}`;
    case 'task-history': return `${b}/tasks/${seg(q.id)}/history`;
    case 'tasks': return `${b}/tasks${queryString(q.params, q.how)}`;
    case 'apps': return `${b}/apps${queryString(q.params, q.how)}`;
    case 'user-apps': return `${b}/users/${seg(q.u)}/apps`;
    case 'user-tasks': return `${b}/users/${seg(q.u)}/tasks`;
  }
}

/** Single-valued parameters as the API reads them (trimmed; empty = absent), or null when one repeats. */
function single(params: Array<[string, string]>, keys: readonly string[]): Record<string, string> | null {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [k, v] of params) {
    if (!keys.includes(k)) continue;
    if (seen.has(k)) return null;
    seen.add(k);
    // values are trimmed, but for limit: plain digits only (' 2' is a 400)
    const given = k === 'limit' ? v : v.trim();
    if (given !== '') out[k] = given;
  }
  return out;
}

/** What the query means: equal for two requests exactly when they ask the same thing (null: no store query). */
function meaning(q: Query): string | null {
  switch (q.kind) {
    case 'state': {
      const f = single(q.params, FILTER_KEYS);
      return f === null || Object.keys(f).length === 0 ? null : JSON.stringify(['state', FILTER_KEYS.map((k) => f[k] ?? null)]);
    }
    case 'tasks': {
      const f = single(q.params, ['app_name', 'user_id']);
      return f === null || Object.keys(f).length === 0 ? null : JSON.stringify(['tasks', f.app_name ?? null, f.user_id ?? null]);
    }
    case 'apps': {
      const f = single(q.params, APPS_KEYS);
      if (f === null) return null;
      return JSON.stringify(['apps', ...APPS_FILTERS.map((k) => f[k] ?? null), Number(f.limit ?? 100), f.cursor === undefined ? null : decodeCursor(f.cursor)]);
    }
    case 'app': return JSON.stringify(['app', q.u, q.s, q.a]);
    case 'app-history': return JSON.stringify(['app-history', q.u, q.s, q.a]);
    case 'task': return JSON.stringify(['task', q.id]);
    case 'task-history': return JSON.stringify(['task-history', q.id]);
    case 'user-apps': return JSON.stringify(['user-apps', q.u]);
    case 'user-tasks': return JSON.stringify(['user-tasks', q.u]);
  }
}

type Store = Awaited<ReturnType<typeof startHarness>>['store']['store'];

/** The answer computed now, from the store itself, for this query: status and body. */
function fresh(store: Store, q: Query): { status: number; body: string } | { status: 400 } {
  const ok = (json: string, message = 'success') => ({ status: 200, body: envelopeJson(true, message, json) });
  const notFound = (message: string) => ({ status: 404, body: JSON.stringify(errorBody(message)) });
  switch (q.kind) {
    case 'state': {
      const f = single(q.params, FILTER_KEYS);
      if (f === null) return { status: 400 };
      const allowed = { task_status: TASK_STATUSES, task_type: TASK_TYPES, stuck: ['true', 'false'] } as Record<string, readonly string[]>;
      if (Object.entries(f).some(([k, v]) => allowed[k] !== undefined && !allowed[k].includes(v))) return { status: 400 };
      const filter: StateFilter = { ...f, ...(f.stuck === undefined ? {} : { stuck: f.stuck === 'true' }) };
      return ok(store.state(filter), OK_MESSAGE);
    }
    case 'tasks': {
      const f = single(q.params, ['app_name', 'user_id']);
      if (f === null || Object.keys(f).length === 0) return { status: 400 };
      return ok(store.tasksBy(f));
    }
    case 'apps': {
      const f = single(q.params, APPS_KEYS);
      if (f === null) return { status: 400 };
      const limit = Number(f.limit ?? 100);
      const after = f.cursor === undefined ? null : decodeCursor(f.cursor);
      const bad = (f.stuck !== undefined && f.stuck !== 'true' && f.stuck !== 'false')
        || (f.stage !== undefined && !(APP_STAGES as readonly string[]).includes(f.stage))
        || (f.health !== undefined && !HEALTHS.includes(f.health))
        || !/^\d+$/.test(f.limit ?? '100') || limit < 1 || limit > 1000 || (f.cursor !== undefined && after === null);
      if (bad) return { status: 400 };
      const { user_id, source_id, app_name, stage, health } = f;
      return ok(store.appsPage({ user_id, source_id, app_name, stage, health, ...(f.stuck === undefined ? {} : { stuck: f.stuck === 'true' }) }, limit, after));
    }
    case 'app': {
      const json = store.app(q.u, q.s, q.a);
      return json === null ? notFound('app not found') : ok(json);
    }
    case 'task': {
      const json = store.task(q.id);
      return json === null ? notFound('task not found') : ok(json);
    }
    case 'app-history': {
      const json = store.history('app_states', `${q.u}:${q.s}:${q.a}`);
      return json === null ? notFound('no history of this app') : ok(json);
    }
    case 'task-history': {
      const json = store.history('tasks', q.id);
      return json === null ? notFound('no history of this task') : ok(json);
    }
    case 'user-apps': return ok(store.appsByUser(q.u));
    case 'user-tasks': return ok(store.tasksBy({ user_id: q.u }));
  }
}

const appArb = fc.tuple(
  fc.constantFrom(...POOL), fc.constantFrom('market', 'local', 'a&b', 'a b'), fc.constantFrom(...POOL),
  fc.constantFrom<'running' | 'stopped'>('running', 'stopped'), fc.constantFrom<'healthy' | 'unhealthy' | 'unknown' | undefined>('healthy', 'unhealthy', 'unknown', undefined),
);
const taskArb = fc.tuple(
  fc.constantFrom(...POOL), fc.constantFrom(...POOL), fc.option(fc.constantFrom(...POOL), { nil: undefined }),
  fc.constantFrom(...TASK_STATUSES), fc.constantFrom(...TASK_TYPES),
);

describe('query answers and cache keys (property)', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  /** which query each cache key was used for: a key used for two different queries is the bug */
  const keyUse = new Map<string, string>();
  let asking: string | null = null;
  const misuse: string[] = [];
  let rawRepeats = 0;
  const cache = () => (h.http as unknown as { cache: ResponseCache }).cache;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
    const internals = h.http as unknown as { cache: ResponseCache; remembered: RememberedAnswers };
    // (noted, not thrown: this runs inside the server)
    const note = (key: string) => {
      const first = keyUse.get(key);
      if (asking === null) misuse.push(`cache key ${key} used outside a query`);
      else if (first === undefined) keyUse.set(key, asking);
      else if (first !== asking) misuse.push(`cache key ${key} used for ${first} and for ${asking}`);
    };
    const { get, set } = internals.cache;
    internals.cache.get = function (key, stamp) { note(key); return get.call(this, key, stamp); };
    internals.cache.set = function (key, stamp, etag, body) { note(key); return set.call(this, key, stamp, etag, body); };
    const lookup = internals.remembered.lookup;
    internals.remembered.lookup = function (t, cur) {
      const found = lookup.call(this, t, cur);
      if (found) rawRepeats += 1;
      return found;
    };
  });
  afterAll(() => h?.close());
  beforeEach(() => {
    keyUse.clear();
    misuse.length = 0;
  });

  it('the issue\'s case: `user_id=alice%26app_name%3Dfirefox` and `user_id=alice&app_name=firefox` get their own answers', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'firefox'), app('alice&app_name=firefox', 'market', 'wiki')] }]);
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [] }]);
    await h.settled(true);
    const escaped = '/api/v2/runtime/state?user_id=alice%26app_name%3Dfirefox';
    const plain = '/api/v2/runtime/state?user_id=alice&app_name=firefox';
    const answers: Answer[] = [];
    for (const t of [escaped, plain, escaped, plain]) {
      asking = t.includes('%26') ? 'escaped' : 'plain';
      answers.push(await h.send(t));
      asking = null;
    }
    expect(misuse).toEqual([]);
    const apps = (a: Answer) => Object.values((JSON.parse(a.body) as { data: { app_states: Record<string, { app_name: string }> } }).data.app_states).map((x) => x.app_name);
    expect(apps(answers[0])).toEqual(['wiki']);
    expect(apps(answers[1])).toEqual(['firefox']);
    expect(answers[2].body).toBe(answers[0].body);
    expect(answers[3].body).toBe(answers[1].body);
    expect(answers[0].headers.etag).not.toBe(answers[1].headers.etag);
  });

  it('every answer, first or repeated, GET or HEAD, equals a fresh computation; a key or tag never serves two', async () => {
    const bodyOfTag = new Map<string, string>();
    /** which query (its meaning) each ETag was given to: a tag given to two different queries is the bug */
    const queryOfTag = new Map<string, string>();
    /** pairs of different queries answered 200 at one version, and those of them whose bodies were the same */
    let comparedPairs = 0;
    let sameBodyPairs = 0;
    let runs = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(appArb, { maxLength: 8 }), fc.array(taskArb, { maxLength: 8 }),
      fc.array(fc.tuple(base, query, fc.boolean()), { minLength: 1, maxLength: 6 }),
      async (apps, tasks, asked) => {
        // with each query maybe its folded twin, at the same version
        const queries = asked.flatMap(([b, q, twin]) => {
          const f = twin ? folded(q) : null;
          return f ? [[b, q], [b, f]] as const : [[b, q]] as const;
        });
        runs += 1;
        misuse.length = 0;
        // a new version per run: answers of the previous one must not come back
        h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps.map(([u, s, a, stage, health]) => app(u, s, a, { stage_detail: `run ${runs}`, stage, health })) }]);
        h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: tasks.map(([id, a, u, status, type]) => task(id, a, u, { status, type })) }]);
        await h.settled(true);
        /** this version's 200 answers: each query's meaning, its tag and body */
        const tagged = new Map<string, { tag: string; body: string }>();
        for (const [b, q] of queries) {
          const t = target(b, q);
          const expected = fresh(h.store.store, q);
          asking = meaning(q) ?? `unkeyed ${t}`;
          const answers = [await h.send(t), await h.send(t)];
          const head = await h.send(t, 'HEAD');
          for (const a of answers) {
            expect(a.status, `${t}: ${a.body}`).toBe(expected.status);
            if ('body' in expected) expect(a.body, t).toBe(expected.body);
          }
          expect(head.status, t).toBe(expected.status);
          expect(head.body).toBe('');
          expect(head.headers['content-length']).toBe(answers[0].headers['content-length']);
          expect(head.headers.etag).toBe(answers[0].headers.etag);
          if (expected.status === 200) {
            // every answer here is versioned: it has an ETag
            const tag = answers[0].headers.etag as string;
            expect(tag, t).toBeTruthy();
            for (const a of answers) expect(a.headers.etag).toBe(tag);
            const known = bodyOfTag.get(tag);
            // (a weak, content-derived tag: the same content at a later version differs in its times alone)
            if (known !== undefined) expect(contentOf(answers[0].body), `ETag ${tag} named two bodies`).toBe(contentOf(known));
            bodyOfTag.set(tag, answers[0].body);
            // different queries, different tags: directly, not only through the cache keys
            const meant = meaning(q) ?? 'the whole state';
            const givenTo = queryOfTag.get(tag);
            if (givenTo !== undefined) expect(givenTo, `ETag ${tag} given to two different queries (${t})`).toBe(meant);
            queryOfTag.set(tag, meant);
            for (const [other, seen] of tagged) {
              if (other === meant) continue;
              comparedPairs += 1;
              if (seen.body === answers[0].body) sameBodyPairs += 1;
              expect(seen.tag, `${other} and ${meant}`).not.toBe(tag);
            }
            tagged.set(meant, { tag, body: answers[0].body });
            const revalidated = await h.send(t, 'GET', { 'If-None-Match': tag });
            expect(revalidated.status, t).toBe(304);
            expect(revalidated.body).toBe('');
          }
          // the same query under request targets the raw path has not seen (an ignored parameter added): Hono
          // answers them, from the response cache once the query was asked twice at this version
          for (const n of [1, 2, 3]) {
            const other = `${t}${t.includes('?') ? '&' : '?'}zz=${n}`;
            const a = await h.send(other);
            expect(a.status, other).toBe(expected.status);
            if ('body' in expected) expect(a.body, other).toBe(expected.body);
            if (expected.status === 200) expect(a.headers.etag, other).toBe(answers[0].headers.etag);
          }
          asking = null;
          expect(misuse, t).toEqual([]);
        }
      },
    ), { numRuns: 60 });
    // not vacuous: the cache and the raw path both served answers, each compared with a fresh computation
    expect(keyUse.size).toBeGreaterThan(20);
    expect(cache().hits).toBeGreaterThan(20);
    expect(rawRepeats).toBeGreaterThan(20);
    // and different queries were compared at one version, some of them with the same bytes for an answer
    expect(comparedPairs).toBeGreaterThan(20);
    expect(sameBodyPairs).toBeGreaterThan(0);
  }, 120_000);
});
