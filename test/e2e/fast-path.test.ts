import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskState } from '../../src/model/index.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { eventually, fake, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { task } from '../helpers/store-fixtures.ts';

/** The unfiltered /state is answered before Hono; it must answer exactly as the Hono routes would. */
const TOKEN = 'fast-path-token-0123456789';

describe('the fast /state path', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 20 })], { intervalMs: 60_000, security: { apiToken: TOKEN } });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('serves the snapshot with the data headers, and 304 to its own tag', async () => {
    const ok = await rawRequest(sc.base, '/api/v2/runtime/state', { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'cache-control': 'no-cache', vary: 'Accept-Encoding',
    });
    expect(Number(ok.headers['content-length'])).toBe(Buffer.byteLength(ok.body));
    expect(JSON.parse(ok.body).data.summary.total_tasks).toBe(20);
    const again = await rawRequest(sc.base, '/app-store/api/v2/runtime/state', { headers: { ...auth, 'If-None-Match': String(ok.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await rawRequest(sc.base, '/api/v2/runtime/state', { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect(head.body).toBe('');
  });

  it('answers HEAD of what Hono serves with the length a GET has', async () => {
    // never asked before: Hono answers these, not the raw path
    for (const path of ['/api/v2/runtime/state?task_status=pending', '/healthz', '/api/v2/runtime/tasks/no-such-task']) {
      const head = await rawRequest(sc.base, path, { method: 'HEAD', headers: auth });
      const get = await rawRequest(sc.base, path, { headers: auth });
      expect(head.status).toBe(get.status);
      expect(head.body).toBe('');
      expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    }
  });

  it('leaves a missing or wrong token to the API: 401 in the envelope', async () => {
    for (const headers of [{}, { Authorization: 'Bearer nope-nope-nope-nope' }] as Record<string, string>[]) {
      const res = await rawRequest(sc.base, '/api/v2/runtime/state', { headers });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).success).toBe(false);
    }
  });

  it('counts its answers in /metrics under the route pattern', async () => {
    const text = await (await sc.get('/metrics', { headers: auth })).text();
    expect(text).toMatch(/market_runtime_http_requests_total\{method="GET",route="\/api\/v2\/runtime\/state",status="200"\} [1-9]/);
    // the 304 above was asked under /app-store: counted under that base's pattern, as Hono counts it
    expect(text).toMatch(/market_runtime_http_requests_total\{method="GET",route="\/app-store\/api\/v2\/runtime\/state",status="304"\} [1-9]/);
  });
});

/** A repeated query at the same version is answered from remembered bytes: identically, and never stale. */
function tasksFromFile(intervalMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'mr-repeat-'));
  const file = join(dir, 'tasks.json');
  const writeTasks = (status: TaskState['status'], other: TaskState['status'] = 'pending') => writeFileSync(file, JSON.stringify([{ op: 'replace', domain: 'tasks', items: [
    task('t1', 'app1', 'alice', { status }), task('t2', 'app2', 'bob', { status: other }),
  ] }]));
  const ctx = {
    sc: null as unknown as Awaited<ReturnType<typeof startInProcess>>,
    writeTasks,
  };
  beforeAll(async () => {
    writeTasks('running');
    ctx.sc = await startInProcess([fake('tasks', { mode: 'file', file })], { intervalMs, security: { apiToken: TOKEN } });
    await untilReady(ctx.sc.base);
  });
  afterAll(async () => {
    await ctx.sc.sup.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return ctx;
}

const auth = { Authorization: `Bearer ${TOKEN}` };
const withoutDate = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));

describe('repeated queries on the raw path, one version', () => {
  // one collection only: the version holds for the whole block
  const ctx = tasksFromFile(3_600_000);

  it('answers a repeat with the same bytes and headers, and 304 to the answer\'s tag', async () => {
    for (const path of ['/api/v2/runtime/tasks/t1', '/app-store/api/v2/runtime/state?user_id=alice&task_status=running']) {
      const first = await rawRequest(ctx.sc.base, path, { headers: auth });
      const repeats = await Promise.all([1, 2, 3].map(() => rawRequest(ctx.sc.base, path, { headers: auth })));
      expect(first.status).toBe(200);
      for (const r of repeats) {
        expect(r.body).toBe(first.body);
        expect(withoutDate(r.headers)).toEqual(withoutDate(first.headers));
      }
      const revalidated = await rawRequest(ctx.sc.base, path, { headers: { ...auth, 'If-None-Match': String(first.headers.etag) } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.body).toBe('');
      const head = await rawRequest(ctx.sc.base, path, { method: 'HEAD', headers: auth });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-length']).toBe(first.headers['content-length']);
    }
  });

  it('still asks for the token on a repeat', async () => {
    await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/t1', { headers: auth });
    for (const headers of [{}, { Authorization: 'Bearer nope-nope-nope-nope' }] as Record<string, string>[]) {
      expect((await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/t1', { headers })).status).toBe(401);
    }
  });

  it('answers a repeated 404 (an app or task that left the view) without asking the store again', async () => {
    const before = await (await ctx.sc.get('/metrics', { headers: auth })).text();
    const hits = (text: string) => Number(/^market_runtime_http_answer_cache_lookups_total\{result="hit"\} (\d+)$/m.exec(text)?.[1]);
    for (let i = 0; i < 3; i += 1) {
      const r = await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/gone', { headers: auth });
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body)).toEqual({ success: false, message: 'task not found', data: null });
    }
    const after = await (await ctx.sc.get('/metrics', { headers: auth })).text();
    expect(hits(after) - hits(before)).toBe(2);
  });

  it('counts repeats under the route pattern', async () => {
    for (let i = 0; i < 3; i += 1) await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/t1', { headers: auth });
    const text = await (await ctx.sc.get('/metrics', { headers: auth })).text();
    const m = /market_runtime_http_requests_total\{method="GET",route="\/api\/v2\/runtime\/tasks\/:task_id",status="200"\} (\d+)/.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(3);
    // the first answer was computed (a miss of the answer cache); the raw path repeats it without a lookup
    const lookups = (result: string) => new RegExp(`^market_runtime_http_answer_cache_lookups_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1];
    expect(Number(lookups('miss'))).toBeGreaterThanOrEqual(1);
    expect(lookups('hit')).toMatch(/^\d+$/);
  });
});

describe('repeated queries on the raw path, new versions', () => {
  const ctx = tasksFromFile(100);

  it('never repeats an answer of an older version', async () => {
    const status = async () => JSON.parse((await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/t1', { headers: auth })).body).data.status;
    expect(await status()).toBe('running');
    expect(await status()).toBe('running');
    ctx.writeTasks('completed');
    await eventually(async () => {
      const state = JSON.parse((await rawRequest(ctx.sc.base, '/api/v2/runtime/state', { headers: auth })).body);
      expect(state.data.tasks.t1.status).toBe('completed');
    });
    for (let i = 0; i < 5; i += 1) expect(await status()).toBe('completed');
  });

  it("keeps an answer's tag, and its 304, while only other parts of the market change", async () => {
    ctx.writeTasks('running', 'pending');
    await eventually(async () => {
      const state = JSON.parse((await rawRequest(ctx.sc.base, '/api/v2/runtime/state', { headers: auth })).body);
      expect([state.data.tasks.t1.status, state.data.tasks.t2.status]).toEqual(['running', 'pending']);
    });
    const paths = ['/api/v2/runtime/tasks/t1', '/api/v2/runtime/users/alice/tasks', '/api/v2/runtime/tasks?app_name=app1'];
    const tags = await Promise.all(paths.map(async (p) => String((await rawRequest(ctx.sc.base, p, { headers: auth })).headers.etag)));
    const bobTag = String((await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/t2', { headers: auth })).headers.etag);
    const versionBefore = JSON.parse((await rawRequest(ctx.sc.base, '/api/v2/runtime/state', { headers: auth })).body).data.version;
    // only bob's task moves: a new version
    ctx.writeTasks('running', 'running');
    await eventually(async () => {
      const state = JSON.parse((await rawRequest(ctx.sc.base, '/api/v2/runtime/state', { headers: auth })).body);
      expect(state.data.tasks.t2.status).toBe('running');
      expect(state.data.version).toBeGreaterThan(versionBefore);
    });
    for (const [i, p] of paths.entries()) {
      const again = await rawRequest(ctx.sc.base, p, { headers: { ...auth, 'If-None-Match': tags[i]! } });
      expect(again.status, p).toBe(304);
      expect(again.headers.etag, p).toBe(tags[i]);
    }
    const bob = await rawRequest(ctx.sc.base, '/api/v2/runtime/tasks/t2', { headers: { ...auth, 'If-None-Match': bobTag } });
    expect(bob.status).toBe(200);
    expect(JSON.parse(bob.body).data.status).toBe('running');
  });
});
