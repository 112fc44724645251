/**
 * The chaos control (RUNTIME_CHAOS_PORT): off unless configured, loopback only, and a kill there is a real
 * thread death the supervisor restarts and counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { freePort } from '../helpers/nats.ts';
import { eventually, fake, startInProcess, untilReady } from '../helpers/sidecar.ts';

describe('chaos control', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  let control: string;
  beforeAll(async () => {
    const chaosPort = await freePort();
    control = `http://127.0.0.1:${chaosPort}`;
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 3 })], { chaosPort });
    await untilReady(sc.base);
  }, 60_000);
  afterAll(() => sc?.sup.stop());

  it('is off unless RUNTIME_CHAOS_PORT is set', () => {
    expect(loadConfig({ RUNTIME_DEMO: 'on' }).chaosPort).toBeUndefined();
    expect(loadConfig({ RUNTIME_DEMO: 'on', RUNTIME_CHAOS_PORT: '9099' }).chaosPort).toBe(9099);
  });

  it('lists the threads and kills one the way a crash would: restarted and counted', async () => {
    const listed = (await (await fetch(`${control}/threads`)).json()) as { threads: string[]; restarts: Record<string, number> };
    expect(listed.threads).toEqual(['store', 'http', 'compress', 'collector_tasks']);
    expect(listed.restarts).toEqual({ store: 0, http: 0, compress: 0, collector_tasks: 0 });
    const res = await fetch(`${control}/kill?thread=collector_tasks`, { method: 'POST' });
    expect(res.status).toBe(200);
    await eventually(async () => {
      const now = (await (await fetch(`${control}/threads`)).json()) as { restarts: Record<string, number> };
      expect(now.restarts.collector_tasks).toBe(1);
    });
    const bad = await fetch(`${control}/kill?thread=everything`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown thread "everything"/);
    const restarts = sc.sup.threadRestarts().store;
    expect((await fetch(`${control}/kill?thread=store`)).status).toBe(404); // GET kills nothing
    expect(sc.sup.threadRestarts().store).toBe(restarts);
    expect(sc.sup.threads().store.threadId).not.toBe(-1);
  });

  it('kills the compression thread only when one runs: none yet (no compressed answer), 409 and nothing counted', async () => {
    const before = sc.sup.threadRestarts().compress;
    const none = await fetch(`${control}/kill?thread=compress`, { method: 'POST' });
    expect(none.status).toBe(409);
    expect(((await none.json()) as { error: string }).error).toMatch(/no compress thread is running/);
    expect(sc.sup.threadRestarts().compress).toBe(before);
    // (a kill of a running one: test/reliability/thread-deadlines.test.ts)
  });

  it('listens on loopback only', async () => {
    const server = (sc.sup as unknown as { chaos: import('node:http').Server }).chaos;
    expect((server.address() as { address: string }).address).toBe('127.0.0.1');
  });
});
