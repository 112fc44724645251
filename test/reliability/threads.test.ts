/**
 * Issue 7: threads that die. A collector thread that throws an uncaught error or exits is replaced with
 * backoff and its restarts are counted; a store thread that dies is restarted, /readyz says 503 until the
 * next full pass rebuilt the state while /state keeps serving the last snapshot; an HTTP thread that dies is
 * restarted on the same port.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fake, LIVENESS_MS, restartStore, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { API, sleep, sources, state, view } from './helpers.ts';
import { parseProm, value } from '../helpers/prom.ts';

const dir = mkdtempSync(join(tmpdir(), 'mr-threads-'));
const T0 = '2026-11-25T10:00:00.000Z';

function appsFile(name: string, apps: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify([{ op: 'replace', domain: 'app_states', items: apps.map((a) => ({
    app_id: a, app_name: a, user_id: 'alice', source_id: 'market', stage: 'running', health: 'healthy', last_update: T0,
  })) }]));
  return file;
}

/** Kills the HTTP thread and waits for its replacement; answers the replacement. */
async function replaceHttp(sc: Awaited<ReturnType<typeof startInProcess>>): Promise<unknown> {
  const old = sc.sup.threads().http;
  sc.sup.kill('http');
  await eventually(async () => expect(sc.sup.threads().http).not.toBe(old), LIVENESS_MS, 5);
  return sc.sup.threads().http;
}

/** /readyz answers 200 within `within` (each try cut at 1 s: a thread that is down must not hold the check). */
async function readyAgain(base: string, within = LIVENESS_MS): Promise<void> {
  await eventually(async () => {
    expect((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) })).status).toBe(200);
  }, within);
}

describe('collector threads that die', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 5 }),
      fake('components', { mode: 'crash' }),
      fake('chart_repo', { mode: 'exit' }),
    // a deadline no thread start reaches on a loaded machine: each failure here is a death, never a deadline
    ], { intervalMs: 100, deadlineMs: LIVENESS_MS });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('are replaced with backoff (not once per tick), restarts counted in collector_<source> and sources', async () => {
    // Each death is one failed outcome, stamped (finished_at, shown as last_attempt in …/sources) by the
    // supervisor at the moment it sets the backoff: the times are the supervisor's own, not when this test
    // happened to look, so the gap between two deaths is exact. Ticks come every 0.1 s; the backoff doubles
    // from 0.5 s, so without it deaths would come a tick or two apart.
    const t0 = Date.now();
    const deaths = { components: [] as number[], chart_repo: [] as number[] };
    for (;;) {
      const fresh = await sources(sc.base);
      for (const k of ['components', 'chart_repo'] as const) {
        const at = Date.parse(fresh[k]?.last_attempt ?? '');
        if (Number.isFinite(at) && deaths[k].at(-1) !== at) deaths[k].push(at);
      }
      if (deaths.components.length >= 5 && deaths.chart_repo.length >= 5) break;
      // five thread starts and their backoffs (0.5 + 1 + 2 + 4 s): a loaded machine may need more than one liveness bound
      if (Date.now() - t0 > 2 * LIVENESS_MS) throw new Error(`a dead thread was not replaced often enough: ${JSON.stringify(deaths)}`);
      await sleep(50);
    }
    for (const k of ['components', 'chart_repo'] as const) {
      const gaps = deaths[k].slice(1).map((t, i) => t - deaths[k][i]!);
      // The backoff doubles from 0.5 s with each death in a row (src/supervisor/collector-handle.ts), and the
      // replacement's own start comes on top: the i-th gap is at least 0.5 × 2^i s however slow the machine is
      // (the first death seen may be a later one in the row: its gaps are longer still). Replacing on every tick
      // would leave them flat, at the start time of a thread. (Less 50 ms: a run may start a tick's slack, 20 ms,
      // early, and a death is stamped a moment after its backoff is set.)
      gaps.forEach((g, i) => expect(g, `${k}: gaps between deaths ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(500 * 2 ** i - 50));
    }
    // what a user sees: the counts in …/sources (with the next outcome), the components saying why
    await eventually(async () => {
      const s = await view(sc.base);
      expect(s.components.collector_components).toMatchObject({ healthy: false, status: 'error' });
      expect(s.components.collector_components.message).toMatch(/collector thread died: .*boom: uncaught in collector thread/);
      expect(s.components.collector_chart_repo.message).toMatch(/collector thread died/);
      expect(s.sources.components.counters?.restarts).toBeGreaterThanOrEqual(2);
      expect(s.sources.chart_repo.counters?.restarts).toBeGreaterThanOrEqual(2);
      // the healthy collector was never held back
      expect(s.sources.tasks).toMatchObject({ ok: true, consecutive_failures: 0 });
      expect(s.sources.tasks.counters?.restarts ?? 0).toBe(0);
    });
  }, 3 * LIVENESS_MS);
});

/**
 * A sidecar whose store, once replaced, is half-built (tasks' passes, not app_flow's) for app_flow's slow pass of
 * `appFlowMs` (its apps in the file `appsName`), for the tests of the suite that calls it. A pass in flight when the store dies waits for its ack until
 * the deadline: kept short.
 */
function storeRebuildingFor(appFlowMs: number, appsName: string): { sc: Awaited<ReturnType<typeof startInProcess>> } {
  const sidecar = {} as { sc: Awaited<ReturnType<typeof startInProcess>> };
  const apps = appsFile(appsName, ['wiki', 'blog', 'chat']);
  beforeAll(async () => {
    sidecar.sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 20 }),
      fake('app_flow', { mode: 'file', file: apps, delayMs: appFlowMs }),
    ], { intervalMs: 200, deadlineMs: 2 * appFlowMs });
    await untilReady(sidecar.sc.base);
  });
  afterAll(() => sidecar.sc.sup.stop());
  return sidecar;
}

describe('the store thread and the HTTP thread dying', () => {
  // a slow source: a rebuild is not complete before its first pass, so "not ready" lasts long enough to see
  const sidecar = storeRebuildingFor(1200, 'apps.json');
  const apps = join(dir, 'apps.json');
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(() => { sc = sidecar.sc; });

  async function killStoreAndWatch(kill: () => void | Promise<unknown>): Promise<void> {
    const before = await fetch(`${sc.base}${API}/state`);
    const etagBefore = before.headers.get('etag')!;
    const body = (await before.json()) as { data: { app_states: object } };
    expect(Object.keys(body.data.app_states)).toHaveLength(3);
    const restarts = sc.sup.storeRestarts;
    const killed = sc.sup.threads().store;
    await kill();
    let saw503 = 0;
    let stateAnswers = 0;
    const end = Date.now() + LIVENESS_MS;
    for (;;) {
      const ready = await fetch(`${sc.base}/readyz`);
      const st = await fetch(`${sc.base}${API}/state`);
      // the last snapshot, served the whole time
      expect(st.status).toBe(200);
      const snap = (await st.json()) as { data: { app_states: object } };
      expect(Object.keys(snap.data.app_states)).toHaveLength(3);
      stateAnswers += 1;
      if (ready.status === 503) saw503 += 1;
      else if (saw503 > 0 && ready.status === 200) break;
      if (Date.now() > end) throw new Error(`no 503 then 200 from /readyz (saw ${saw503} 503s)`);
      await sleep(50);
    }
    // the store thread that runs now is a new one: the old one really died and was replaced
    expect(sc.sup.threads().store).not.toBe(killed);
    expect(killed.threadId).toBe(-1);
    // a crash loop would show as more than one
    expect(sc.sup.storeRestarts).toBeGreaterThanOrEqual(restarts + 1);
    expect(sc.sup.storeRestarts).toBeLessThanOrEqual(restarts + 2);
    expect(saw503).toBeGreaterThan(0);
    expect(stateAnswers).toBeGreaterThan(saw503);
    // rebuilt: a new store epoch, the whole state back, answering filtered queries again
    const after = await fetch(`${sc.base}${API}/state`);
    expect(after.headers.get('etag')).not.toBe(etagBefore);
    const rebuilt = (await after.json()) as { data: { app_states: object; tasks: object } };
    expect(Object.keys(rebuilt.data.app_states)).toHaveLength(3);
    expect(Object.keys(rebuilt.data.tasks)).toHaveLength(20);
    const filtered = await fetch(`${sc.base}${API}/state?user_id=alice`);
    expect(filtered.status).toBe(200);
  }

  it('store terminated: restarted, /readyz 503 until a full pass rebuilt it, /state serves the last snapshot meanwhile', async () => {
    await killStoreAndWatch(() => sc.sup.threads().store.terminate());
  });

  it('store crashed (an uncaught error inside it): the same', async () => {
    // a well-formed pass the store cannot render (a BigInt) throws inside the store thread, uncaught: the
    // thread dies the way a bug would kill it (a malformed pass would only be dropped)
    await killStoreAndWatch(async () => {
      const restarts = sc.sup.storeRestarts;
      writeFileSync(apps, JSON.stringify({ poison: true }));
      await eventually(async () => expect(sc.sup.storeRestarts).toBeGreaterThan(restarts), LIVENESS_MS, 20);
      appsFile('apps.json', ['wiki', 'blog', 'chat']);
    });
  });

  it('a store killed again and again, each time once it was ready again: /readyz is back every time within the liveness bound', async () => {
    // a store that became ready proved itself: its next death starts the restart delay over (0.5 s), where a
    // delay doubled per death (up to 30 s) would keep /readyz down past the bound by the seventh kill
    for (let kill = 1; kill <= 7; kill++) {
      await restartStore(sc);
      await sleep(300);
    }
    const rebuilt = (await (await fetch(`${sc.base}${API}/state`)).json()) as { data: { app_states: object } };
    expect(Object.keys(rebuilt.data.app_states)).toHaveLength(3);
  }, 8 * LIVENESS_MS);

  it('HTTP thread terminated: restarted and the same port is served again', async () => {
    const restarts = sc.sup.httpRestarts;
    const port = sc.sup.port;
    await sc.sup.threads().http.terminate();
    await eventually(async () => {
      const res = await fetch(`${sc.base}/readyz`, { signal: AbortSignal.timeout(2000) });
      expect(res.status).toBe(200);
    });
    expect(sc.sup.httpRestarts).toBe(restarts + 1);
    expect(sc.sup.port).toBe(port);
    const body = (await (await fetch(`${sc.base}${API}/state?task_status=running`)).json()) as { success: boolean; data: { tasks: object } };
    expect(body.success).toBe(true);
    expect(Object.keys(body.data.tasks).length).toBeGreaterThan(0);
    // and again: a second death is handled the same way
    await sc.sup.threads().http.terminate();
    await eventually(async () => expect((await fetch(`${sc.base}/healthz`, { signal: AbortSignal.timeout(2000) })).status).toBe(200));
    expect(sc.sup.httpRestarts).toBe(restarts + 2);
  });

  it('a kill while the thread is down (waiting for its restart) kills nothing and says so (chaos counts only real kills)', async () => {
    for (const kind of ['store', 'http'] as const) {
      const restarts = kind === 'store' ? sc.sup.storeRestarts : sc.sup.httpRestarts;
      await sc.sup.threads()[kind].terminate();
      // the restart waits at least 0.5 s: the dead thread is still the current one
      expect(sc.sup.threads()[kind].threadId).toBe(-1);
      expect(sc.sup.kill(kind)).toBe(false);
      await eventually(async () => expect((await fetch(`${sc.base}/readyz`, { signal: AbortSignal.timeout(2000) })).status).toBe(200));
      expect(kind === 'store' ? sc.sup.storeRestarts : sc.sup.httpRestarts).toBe(restarts + 1);
    }
  });
});

describe('the store and the HTTP thread dying together', () => {
  // half-built for longer than an HTTP thread takes to start again on a loaded machine: the new HTTP thread is
  // scraped meanwhile
  const sidecar = storeRebuildingFor(4000, 'apps-together.json');
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(() => { sc = sidecar.sc; });

  it('/metrics never shows the half-built store\'s counts (an alert would reset)', async () => {
    const running = async (): Promise<{ running?: number; ready?: number } | null> => {
      const res = await fetch(`${sc.base}/metrics`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      if (res?.status !== 200) return null;
      const e = parseProm(await res.text());
      return { running: value(e, 'market_runtime_apps_by_stage', { stage: 'running' }), ready: value(e, 'market_runtime_store_ready') };
    };
    // a ready store's view, held by this HTTP thread (and, through it, by the supervisor)
    await eventually(async () => expect(await running()).toEqual({ running: 3, ready: 1 }));
    await sleep(100); // (the link message on its way to the supervisor)
    const restarts = { store: sc.sup.storeRestarts, http: sc.sup.httpRestarts };
    await Promise.all([sc.sup.threads().store.terminate(), sc.sup.threads().http.terminate()]);
    // every scrape the new HTTP thread answers while the new store has only tasks' passes shows the last ready view
    const seen: number[] = [];
    const end = Date.now() + LIVENESS_MS;
    for (;;) {
      const m = await running();
      if (m !== null) {
        seen.push(m.running ?? 0);
        if (m.ready === 1) break;
      }
      if (Date.now() > end) throw new Error(`the store was not ready again in time (running seen: ${seen.join(', ')})`);
      await sleep(50);
    }
    expect(new Set(seen)).toEqual(new Set([3]));
    expect(seen.length).toBeGreaterThan(1);
    expect({ store: sc.sup.storeRestarts, http: sc.sup.httpRestarts }).toEqual({ store: restarts.store + 1, http: restarts.http + 1 });
  });
});

describe('a store or HTTP thread that hangs (loops, never dies)', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('app_flow', { mode: 'file', file: appsFile('hang.json', ['wiki', 'blog']) }),
    ], { intervalMs: 200, threadHungAfterMs: 2000 });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('a hung store: /readyz says 503 within seconds, /state keeps its last snapshot, and the store is replaced', async () => {
    const restarts = sc.sup.storeRestarts;
    // a reader of the whole state: the HTTP thread holds that body (none is rendered for its own sake)
    expect(Object.keys((await state(sc.base)).app_states)).toHaveLength(2);
    expect(sc.sup.hang('store', 10 * LIVENESS_MS)).toBe(true);
    // (the HTTP thread trusts a store that pushed something in the last 5 s, then pings it)
    await eventually(async () => expect((await fetch(`${sc.base}/readyz`)).status).toBe(503), LIVENESS_MS);
    expect(Object.keys((await state(sc.base)).app_states)).toHaveLength(2);
    await eventually(async () => {
      expect(sc.sup.storeRestarts).toBe(restarts + 1);
      expect((await fetch(`${sc.base}/readyz`)).status).toBe(200);
    }, LIVENESS_MS);
    expect(Object.keys((await state(sc.base, '?user_id=alice')).app_states)).toHaveLength(2);
  }, 3 * LIVENESS_MS);

  it('a hung HTTP thread is replaced on the same port', async () => {
    const restarts = sc.sup.httpRestarts;
    expect(sc.sup.hang('http', 10 * LIVENESS_MS)).toBe(true);
    await eventually(async () => {
      expect(sc.sup.httpRestarts).toBe(restarts + 1);
      expect((await fetch(`${sc.base}/healthz`, { signal: AbortSignal.timeout(1000) })).status).toBe(200);
    }, LIVENESS_MS);
  }, 3 * LIVENESS_MS);

  it('a thread slower to start than a hung one is given is not taken for hung: its start-up calls have their own deadlines', async () => {
    const restarts = sc.sup.httpRestarts;
    // its replacement, blocked while it starts (as loading its code on a busy machine would) for three times the
    // 2 s a started thread gets to answer a ping
    await replaceHttp(sc);
    expect(sc.sup.hang('http', 6000)).toBe(true);
    await eventually(async () => {
      expect((await fetch(`${sc.base}/healthz`, { signal: AbortSignal.timeout(1000) })).status).toBe(200);
    }, LIVENESS_MS);
    expect(sc.sup.httpRestarts).toBe(restarts + 1);
  }, 3 * LIVENESS_MS);
});

describe('an HTTP thread replaced while the store is too busy to take its ports', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('app_flow', { mode: 'file', file: appsFile('busy.json', ['wiki', 'blog']) }),
    ], { intervalMs: 200, threadHungAfterMs: 4 * LIVENESS_MS });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('is attached once the store answers again: /readyz and filtered answers come back, not 503 for good', async () => {
    const restarts = sc.sup.httpRestarts;
    // busy past the 5 s a control call waits (a bulk pass on a loaded machine), well short of being taken for hung
    expect(sc.sup.hang('store', 8000)).toBe(true);
    await replaceHttp(sc);
    await readyAgain(sc.base);
    expect(sc.sup.httpRestarts).toBe(restarts + 1);
    expect(sc.sup.storeRestarts).toBe(0);
    expect(Object.keys((await state(sc.base, '?user_id=alice')).app_states)).toHaveLength(2);
  }, 3 * LIVENESS_MS);

  it('a replacement that dies while it waits for the store leaves its successor alone (its listen is not sent to the next thread)', async () => {
    const restarts = sc.sup.httpRestarts;
    // the store busy past the 5 s a port hand-over waits: a new HTTP thread waits for it before it listens
    expect(sc.sup.hang('store', 8000)).toBe(true);
    await replaceHttp(sc);
    // its replacement dies while it still waits for the store's ports
    const second = await replaceHttp(sc);
    await readyAgain(sc.base, 2 * LIVENESS_MS);
    // two deaths, two restarts: the second replacement serves on, and nothing ended it for a call it never failed
    expect(sc.sup.threads().http).toBe(second);
    expect(sc.sup.httpRestarts).toBe(restarts + 2);
    expect(sc.sup.lastRestarts().http?.reason).toBe('killed (chaos control)');
    expect(sc.sup.storeRestarts).toBe(0);
  }, 4 * LIVENESS_MS);
});

describe('an HTTP thread whose port is taken while it is replaced', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('app_flow', { mode: 'file', file: appsFile('taken.json', ['wiki']) }),
    ], { intervalMs: 200 });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  /** Binds `port` once it is free; null once `lost` says the replacement has it. */
  async function takePort(port: number, lost: () => Promise<boolean>): Promise<Server | null> {
    for (;;) {
      const server = createServer();
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) return server;
      if (await lost()) return null;
      await sleep(5);
    }
  }

  it('its restart says why it failed (the listen error), not that the thread did not answer', async () => {
    const port = sc.sup.port;
    let held: Server | null = null;
    // the test and the replacement race for the port: tried until the test holds it while the thread is down
    for (let attempt = 0; attempt < 10 && !held; attempt++) {
      const old = sc.sup.threads().http;
      const restarts = sc.sup.httpRestarts;
      await old.terminate();
      held = await takePort(port, async () => sc.sup.threads().http !== old && sc.sup.httpRestarts === restarts + 1
        && (await fetch(`${sc.base}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)));
    }
    expect(held).not.toBeNull();
    try {
      await eventually(async () => {
        expect(sc.sup.lastRestarts().http?.reason).toMatch(/http\.listen failed: .*EADDRINUSE/);
      }, LIVENESS_MS);
    } finally {
      await new Promise((resolve) => held!.close(resolve));
    }
    await readyAgain(sc.base, 2 * LIVENESS_MS);
  }, 6 * LIVENESS_MS);
});
