import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';

const dir = mkdtempSync(join(tmpdir(), 'mr-e2e-'));
const file = join(dir, 'steps.json');
const T0 = '2026-11-25T10:00:00.000Z';

function writeSource(tasks: Array<{ id: string; status: string; user?: string }>, apps: Array<{ user: string; app: string; health: string }>) {
  writeFileSync(file, JSON.stringify([
    { op: 'replace', domain: 'tasks', items: tasks.map((t) => ({ task_id: t.id, type: 'install', status: t.status, app_name: 'firefox', user_id: t.user ?? 'alice', created_at: T0 })) },
    { op: 'replace', domain: 'app_states', items: apps.map((a) => ({ app_id: a.app, app_name: a.app, user_id: a.user, source_id: 'market', stage: 'running', health: a.health, last_update: T0 })) },
  ]));
}

describe('the pipeline end to end: fake source -> collector thread -> store thread -> HTTP thread', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    writeSource([{ id: 't1', status: 'running' }, { id: 't2', status: 'pending', user: 'bob' }],
      [{ user: 'alice', app: 'firefox', health: 'healthy' }, { user: 'bob', app: 'gitea', health: 'unhealthy' }]);
    sc = await startInProcess([fake('tasks', { mode: 'file', file })]);
  });
  afterAll(() => sc.sup.stop());

  it('answers /readyz once the first pass is in', async () => {
    await untilReady(sc.base);
  });

  it('serves the snapshot under both base paths with an ETag', async () => {
    for (const base of ['/api/v2/runtime', '/app-store/api/v2/runtime']) {
      const res = await sc.get(`${base}/state`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toMatch(/^W\/"[\w-]{22}"$/);
      const body = await res.json();
      expect(body.success).toBe(true);
      expect(Object.keys(body.data.tasks).sort()).toEqual(['t1', 't2']);
      expect(body.data.summary).toMatchObject({ total_apps: 2, total_tasks: 2, running_tasks: 1, pending_tasks: 1, healthy_apps: 1, unhealthy_apps: 1 });
      expect(body.data.sources.tasks.ok).toBe(true);
    }
  });

  it('answers 304 to a matching If-None-Match, for the whole and for filtered views', async () => {
    for (const path of ['/api/v2/runtime/state', '/api/v2/runtime/state?user_id=bob']) {
      // a pass landing between the two requests may move the tag on (then 200 is right): the source holds
      // still, so asking again soon meets a tag that holds
      await eventually(async () => {
        const first = await sc.get(path);
        const etag = first.headers.get('etag');
        await first.text();
        expect(etag).toMatch(/^W\/"[\w.-]+"$/);
        const again = await sc.get(path, { headers: { 'If-None-Match': etag! } });
        expect(again.status).toBe(304);
        expect(again.headers.get('etag')).toBe(etag);
        expect(await again.text()).toBe('');
      });
    }
  }, 3 * LIVENESS_MS);

  it('filters through the store, recomputing the summary', async () => {
    const body = await (await sc.get('/api/v2/runtime/state?user_id=bob&task_status=pending')).json();
    expect(Object.keys(body.data.app_states)).toEqual(['bob:market:gitea']);
    expect(Object.keys(body.data.tasks)).toEqual(['t2']);
    expect(body.data.summary).toMatchObject({ total_apps: 1, total_tasks: 1, pending_tasks: 1 });
  });

  it('rejects bad filters with 400 naming the parameter', async () => {
    const bad = await sc.get('/api/v2/runtime/state?task_type=explode');
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/task_type/);
    const long = await sc.get(`/api/v2/runtime/state?user_id=${'x'.repeat(300)}`);
    expect(long.status).toBe(400);
    expect((await long.json()).message).toMatch(/user_id.*256/);
  });

  it('serves partial queries, 404 in the envelope when missing', async () => {
    expect((await (await sc.get('/api/v2/runtime/apps/alice/market/firefox')).json()).data.health).toBe('healthy');
    expect((await (await sc.get('/api/v2/runtime/tasks/t2')).json()).data.user_id).toBe('bob');
    expect((await (await sc.get('/api/v2/runtime/tasks?app_name=firefox&user_id=bob')).json()).data).toHaveLength(1);
    expect((await (await sc.get('/api/v2/runtime/users/alice/tasks')).json()).data).toHaveLength(1);
    expect((await (await sc.get('/api/v2/runtime/users/bob/apps')).json()).data[0].app_name).toBe('gitea');
    const missing = await sc.get('/app-store/api/v2/runtime/tasks/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ success: false, message: 'task not found', data: null });
  });

  it('shows a change of the source on the next pass, and a removed task disappears', async () => {
    writeSource([{ id: 't1', status: 'completed' }], [{ user: 'alice', app: 'firefox', health: 'healthy' }]);
    await eventually(async () => {
      const body = await (await sc.get('/api/v2/runtime/state')).json();
      expect(Object.keys(body.data.tasks)).toEqual(['t1']);
      expect(body.data.tasks.t1.status).toBe('completed');
      expect(body.data.summary.total_apps).toBe(1);
    });
  });

  it('keeps everything when the source fails, and says so', async () => {
    writeFileSync(file, JSON.stringify({ throw: 'database is down' }));
    await eventually(async () => {
      const body = await (await sc.get('/api/v2/runtime/state')).json();
      expect(body.data.sources.tasks).toEqual({ ok: false, last_error: 'database is down' });
      const fresh = await (await sc.get('/api/v2/runtime/sources')).json();
      expect(fresh.data.sources.tasks).toMatchObject({ ok: false, last_error: 'database is down' });
      expect(fresh.data.sources.tasks.consecutive_failures).toBeGreaterThan(0);
      expect(Object.keys(body.data.tasks)).toEqual(['t1']);
    });
  });
});
