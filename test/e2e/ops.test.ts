import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProm, sum, value } from '../helpers/prom.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { eventually, fake, spawnFakeSidecar, startInProcess, untilReady } from '../helpers/sidecar.ts';

const T0 = '2026-11-25T10:00:00.000Z';
const dir = mkdtempSync(join(tmpdir(), 'mr-ops-'));
const file = join(dir, 'steps.json');
const TOKEN = 'ops-test-token-5f1c2e9a7b3d4c6e';

describe('/metrics against the snapshot (real threads, fake source)', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    const stages = ['running', 'running', 'installing', 'failed', 'stopped'];
    const health = ['healthy', 'unhealthy', undefined, 'unhealthy', 'healthy'];
    const statuses = ['pending', 'running', 'running', 'completed', 'failed', 'canceled'];
    const types = ['install', 'upgrade', 'uninstall', 'install', 'clone', 'cancel'];
    writeFileSync(file, JSON.stringify([
      { op: 'replace', domain: 'app_states', items: stages.map((stage, i) => ({
        app_id: `a${i}`, app_name: `a${i}`, user_id: `u${i % 2}`, source_id: 'market', stage, last_update: T0,
        ...(health[i] ? { health: health[i] } : {}),
      })) },
      { op: 'replace', domain: 'tasks', items: statuses.map((status, i) => ({
        task_id: `t${i}`, type: types[i], status, app_name: `a${i % 5}`, user_id: `u${i % 2}`, created_at: T0,
      })) },
      { op: 'replace', domain: 'components', items: [
        { name: 'postgres', healthy: true, status: 'running', last_check: T0 },
        { name: 'chart_repo', healthy: false, status: 'error', last_check: T0, message: 'down' },
      ] },
    ]));
    sc = await startInProcess([fake('tasks', { mode: 'file', file }), fake('components', { mode: 'file', file: join(dir, 'missing.json') })]);
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('parses as Prometheus text and its counts match the snapshot summary', async () => {
    const state = (await (await sc.get('/api/v2/runtime/state')).json()).data;
    const res = await sc.get('/metrics');
    expect(res.status).toBe(200);
    const e = parseProm(await res.text());
    const s = state.summary;
    expect(sum(e, 'market_runtime_apps_by_stage')).toBe(s.total_apps);
    expect(sum(e, 'market_runtime_apps_by_health')).toBe(s.total_apps);
    expect(value(e, 'market_runtime_apps_by_health', { health: 'healthy' })).toBe(s.healthy_apps);
    expect(value(e, 'market_runtime_apps_by_health', { health: 'unhealthy' })).toBe(s.unhealthy_apps);
    expect(value(e, 'market_runtime_apps_by_stage', { stage: 'running' })).toBe(2);
    expect(sum(e, 'market_runtime_tasks_by_status')).toBe(s.total_tasks);
    for (const st of ['pending', 'running', 'completed', 'failed'] as const) {
      expect(value(e, 'market_runtime_tasks_by_status', { status: st })).toBe(s[`${st}_tasks`]);
    }
    expect(sum(e, 'market_runtime_tasks_by_type')).toBe(s.total_tasks);
    expect(value(e, 'market_runtime_tasks_by_type', { type: 'install' })).toBe(2);
    expect(Object.keys(state.components)).toEqual(expect.arrayContaining(['chart_repo', 'postgres']));
    for (const name of Object.keys(state.components)) {
      expect(value(e, 'market_runtime_component_healthy', { component: name })).toBe(state.components[name].healthy ? 1 : 0);
    }
    expect(value(e, 'market_runtime_store_version')).toBeGreaterThanOrEqual(state.version);
    expect(value(e, 'market_runtime_store_ready')).toBe(1);
    // the failing source: failures counted, never a success; the good one: a recent last success
    expect(value(e, 'market_runtime_collection_failures_total', { source: 'components' })).toBeGreaterThanOrEqual(1);
    expect(value(e, 'market_runtime_collection_last_success_timestamp_seconds', { source: 'components' })).toBe(0);
    expect(value(e, 'market_runtime_collection_last_success_timestamp_seconds', { source: 'tasks' })).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(sum(e, 'market_runtime_collection_duration_seconds_count', { source: 'tasks' })).toBeGreaterThanOrEqual(1);
    expect(sum(e, 'market_runtime_http_requests_total', { route: '/api/v2/runtime/state', status: '200' })).toBeGreaterThanOrEqual(1);
  });

  it('counts each metric once: the store\'s and the HTTP thread\'s names never collide', async () => {
    const text = await (await sc.get('/metrics')).text();
    const e = parseProm(text); // throws on a second HELP/TYPE of one name
    const families = [...e.types.keys()];
    expect(new Set(families).size).toBe(families.length);
    expect(families.filter((f) => f.startsWith('market_runtime_http_')).length).toBeGreaterThanOrEqual(3);
    expect(families).toContain('market_runtime_store_version');
  });
});

describe('access control in a whole sidecar process (config -> supervisor -> HTTP thread)', () => {
  let sc: Awaited<ReturnType<typeof spawnFakeSidecar>>;
  beforeAll(async () => {
    sc = await spawnFakeSidecar([{ source: 'tasks', options: { mode: 'passes', count: 10 } }], { RUNTIME_API_TOKEN: TOKEN });
    await untilReady(sc.base);
  });
  afterAll(async () => {
    sc.child.kill('SIGTERM');
    await sc.exited;
  });

  it('needs the token for the API and /metrics, not for the probes', async () => {
    expect((await rawRequest(sc.base, '/api/v2/runtime/state')).status).toBe(401);
    expect((await rawRequest(sc.base, '/metrics')).status).toBe(401);
    expect((await rawRequest(sc.base, '/healthz')).status).toBe(200);
    const ok = await rawRequest(sc.base, '/api/v2/runtime/state', { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['x-frame-options']).toBe('DENY');
    expect((await rawRequest(sc.base, '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('bounds URL (414) and header (431) sizes', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    expect((await rawRequest(sc.base, `/api/v2/runtime/state?user_id=${'x'.repeat(9000)}`, { headers: auth })).status).toBe(414);
    expect((await rawRequest(sc.base, '/api/v2/runtime/state', { headers: { ...auth, 'X-Big': 'y'.repeat(20_000) } })).status).toBe(431);
  });
});

describe('logs of a real sidecar whose sources fail: structured, rate-limited, no secret', () => {
  const PASSWORD = 'Pw-7d1f0a9c-never-log-me';
  const DB_URL = `postgres://market:${PASSWORD}@127.0.0.1:1/market`;
  let child: ChildProcess;
  const lines: string[] = [];
  let base = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', new URL('../../src/main.ts', import.meta.url).pathname], {
      env: {
        ...process.env, PORT: '0', HOST: '127.0.0.1', RUNTIME_DEMO: 'off', DATABASE_URL: DB_URL, RUNTIME_API_TOKEN: TOKEN,
        CHART_REPO_SERVICE_HOST: '127.0.0.1:1', CHART_REPO_TIMEOUT_MS: '300', COLLECT_INTERVAL_MS: '200', LOG_LEVEL: 'trace',
        // exit 0 below is a graceful stop within this budget: on a loaded machine it must not be a time limit
        SHUTDOWN_TIMEOUT_MS: '30000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((r) => child.once('exit', (code) => r(code)));
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (l) => lines.push(l));
    base = await eventually(async () => {
      const m = lines.map((l) => /listening: API (http:\/\/127\.0\.0\.1:\d+)/.exec(l)).find(Boolean);
      if (!m) throw new Error('not listening yet');
      return m[1];
    }, 30_000);
    await untilReady(base);
    // let every source fail several times over
    await eventually(async () => {
      const e = parseProm(await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text());
      expect(value(e, 'market_runtime_collection_failures_total', { source: 'tasks' })).toBeGreaterThanOrEqual(5);
    }, 30_000);
    const state = await (await fetch(`${base}/api/v2/runtime/state`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    lines.push(`STATE ${state}`);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);

  it('never shows the DATABASE_URL password or the token, in logs or in the snapshot', () => {
    const all = lines.join('\n');
    expect(all.length).toBeGreaterThan(500);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(encodeURIComponent(PASSWORD));
    expect(all).not.toContain(TOKEN);
    // the redacted URL is what the start line shows
    expect(all).toContain('postgres://market:***@127.0.0.1:1/market');
    const state = JSON.parse(lines.find((l) => l.startsWith('STATE '))!.slice(6));
    expect(state.data.sources.tasks.ok).toBe(false);
    expect(state.data.sources.tasks.last_error).toBeTruthy();
  });

  it('logs JSON lines, one failure line per source with its reason, not one per pass', () => {
    const json = lines.filter((l) => !l.startsWith('STATE ')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.every((o) => typeof o.level === 'number' && typeof o.msg === 'string')).toBe(true);
    const failures = json.filter((o) => o.source === 'tasks' && String(o.msg).startsWith('collection'));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    // >= 5 failed passes, yet at most a first line and a "new error" line within the minute
    expect(failures.length).toBeLessThanOrEqual(2);
    expect(failures[0]).toMatchObject({ msg: 'collection failed', source: 'tasks' });
    expect(String(failures[0].reason)).toMatch(/ECONNREFUSED|connect|refused/i);
    expect(json.some((o) => o.msg === 'stopped')).toBe(true);
  });
});
