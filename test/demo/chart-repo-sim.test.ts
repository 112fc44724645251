import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { hostileItems, startChartRepoSim, type ChartRepoSim } from '../../src/demo/chart-repo-sim.ts';
import { createMarket } from '../../src/demo/market-seed.ts';

const model = createMarket({ seed: 5 });
const alice = [...model.installs.values()].find((i) => i.user_id === 'alice') ?? [...model.installs.values()][0];
let sim: ChartRepoSim;

beforeAll(async () => {
  sim = await startChartRepoSim(model);
});
afterAll(async () => {
  await sim.stop();
});

const status = (query: string, init?: RequestInit): Promise<Response> =>
  fetch(`http://${sim.host}/chart-repo/api/v2/status?${query}`, { signal: AbortSignal.timeout(2000), ...init });

/** the apps the collector's normalizer keeps (it drops only an item whose identity has the wrong type) */
function kept(apps: unknown[]): unknown[] {
  const r = normalizeAnswer({ success: true, data: { apps } }, new Date(0).toISOString());
  if (!r.ok) throw new Error(r.error);
  return r.answer.apps;
}

describe('Chart Repo simulator over HTTP', () => {
  it('listens on a loopback port and answers the exact envelope', async () => {
    expect(sim.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await status(`user=${alice.user_id}&source=${alice.source_id}&include=apps,images,tasks`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(['data', 'message', 'success']);
    expect(body.success).toBe(true);
    expect(Object.keys(body.data).every((k) => ['system', 'apps', 'images', 'tasks'].includes(k))).toBe(true);
    expect(body.data.system.hostname).toBe('chart-repo-demo-0');
    expect(body.data.apps.map((a: { app_name: string }) => a.app_name)).toContain(alice.app_name);
    expect(Object.keys(body.data.tasks).sort()).toEqual(['hydrator', 'image_analyzer']);
  });

  it('honours include: only the requested lists come back', async () => {
    const body = await (await status(`user=${alice.user_id}&source=${alice.source_id}&include=apps`)).json();
    expect(body.data.apps.length).toBeGreaterThan(0);
    expect(body.data.images).toBeUndefined();
    expect(body.data.tasks).toBeUndefined();
  });

  it('rejects a request without user and unknown paths', async () => {
    const res = await status('source=local');
    expect(res.status).toBe(400);
    expect((await res.json()).success).toBe(false);
    const other = await fetch(`http://${sim.host}/chart-repo/api/v1/other`);
    expect(other.status).toBe(404);
  });

  it('fails on demand: 500, then refused connections, then hanging requests, then back to normal', async () => {
    await sim.setFailing('500');
    const failed = await status(`user=${alice.user_id}`);
    expect(failed.status).toBe(500);
    expect((await failed.json()).success).toBe(false);

    await sim.setFailing('refuse');
    await expect(status(`user=${alice.user_id}`)).rejects.toThrow();
    const refused = await status(`user=${alice.user_id}`).catch((err: Error) => err.cause as { code?: string });
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');

    await sim.setFailing('hang');
    const hung = await fetch(`http://${sim.host}/chart-repo/api/v2/status?user=alice`, { signal: AbortSignal.timeout(300) })
      .catch((err: Error) => err.name);
    expect(hung).toBe('TimeoutError');

    await sim.setFailing('ok');
    expect((await status(`user=${alice.user_id}`)).status).toBe(200);
  });

  it('serves injected hostile items next to real ones', async () => {
    const hostile = { app_id: 'x', app_name: '<img src=x onerror="window.__pwned=1">', user_id: alice.user_id,
      source_id: alice.source_id, state: 'processing' };
    const wrongType = { app_id: 'bad', app_name: 42, user_id: alice.user_id, source_id: alice.source_id, state: 'weird' };
    sim.inject({ user: alice.user_id, apps: [hostile, wrongType], images: [{ image_name: 'evil', status: 'nope' }] });
    const body = await (await status(`user=${alice.user_id}&source=${alice.source_id}`)).json();
    const names = body.data.apps.map((a: { app_name: unknown }) => a.app_name);
    expect(names).toContain(hostile.app_name);
    expect(names).toContain(alice.app_name);
    // the hostile name is valid data (escaping is the page's job); an item whose name is not a string is not
    expect(kept([hostile])).toHaveLength(1);
    expect(kept([wrongType])).toHaveLength(0);
    expect(body.data.images.some((i: { image_name: string }) => i.image_name === 'evil')).toBe(true);
    // another pair's answer, and alice's once cleared: real answers (an error or an empty body holds no markup either)
    const other = await (await status('user=bob&source=local')).json();
    expect(other.success).toBe(true);
    expect(JSON.stringify(other)).not.toContain('onerror');
    sim.clearInjections();
    const clean = await (await status(`user=${alice.user_id}&source=${alice.source_id}`)).json();
    expect(clean.data.apps.map((a: { app_name: unknown }) => a.app_name)).toContain(alice.app_name);
    expect(JSON.stringify(clean)).not.toContain('onerror');
  });

  it('has a ready-made hostile set: markup that is valid data, a name to clip, and an item the schemas must drop', async () => {
    sim.inject(hostileItems(alice.user_id, alice.source_id));
    const body = await (await status(`user=${alice.user_id}&source=${alice.source_id}`)).json();
    sim.clearInjections();
    const apps = body.data.apps as unknown[];
    const fits = kept(apps) as { app_name: string }[];
    expect(apps.length - fits.length).toBe(1); // the name that is not a string
    expect(fits.map((a) => a.app_name)).toContain('wrong-types'); // its wrong-typed fields left out
    // the over-long name is kept, clipped (Go keeps any string)
    expect(fits.map((a) => a.app_name)).toContain(`${'a'.repeat(255)}…`);
    expect(JSON.stringify(fits)).toContain('onerror');
    expect(body.data.tasks.hydrator.tasks.some((t: { task_id: string }) => t.task_id.includes('iframe'))).toBe(true);
  });

  it('counts the requests it saw', () => {
    expect(sim.requests()).toBeGreaterThan(5);
  });
});
