import { describe, expect, it } from 'vitest';
import { TASK_STATUS, drainChanges, type MarketModel } from '../../src/demo/market-model.ts';
import { createMarket } from '../../src/demo/market-seed.ts';
import { stepMarket } from '../../src/demo/market-step.ts';

/** app-service states grouped the way the runtime view tells them apart */
function family(state: string): string {
  if (state === 'pending' || state === 'downloading') return 'fetching';
  if (state === 'installing' || state === 'initializing') return 'installing';
  if (state === 'stopping' || state === 'stopped' || state === 'resuming') return 'stopped';
  if (state.endsWith('Failed')) return 'failed';
  if (state.endsWith('Canceling') || state.endsWith('Canceled')) return 'canceled';
  if (state === 'uninstalling' || state === 'uninstalled') return 'uninstalling';
  return state; // running, upgrading
}

function run(seed: number, seconds: number, onTick?: (m: MarketModel) => void): MarketModel {
  const m = createMarket({ seed });
  for (let s = 1; s <= seconds; s++) {
    stepMarket(m, m.options.start + s * 1000);
    onTick?.(m);
  }
  return m;
}

/** the rows the writer would write, as plain data */
function rows(m: MarketModel): string {
  const installs = [...m.installs.values()].map(({ nextAt, healAt, ...row }) => row);
  return JSON.stringify({ installs, tasks: [...m.tasks.values()], catalog: [...m.catalog.values()] });
}

describe('the simulated market', () => {
  it('is deterministic from its seed', () => {
    expect(rows(run(42, 120))).toBe(rows(run(42, 120)));
    expect(rows(run(42, 120))).not.toBe(rows(run(43, 120)));
  });

  it('starts with the default lively size: 8 users, 2 sources, 6 apps each', () => {
    const m = createMarket();
    expect(m.users).toHaveLength(8);
    expect(m.sources.map((s) => s.source_id)).toEqual(['market.olares', 'local']);
    expect(m.installs.size).toBe(48);
    expect(new Set([...m.installs.values()].map((i) => i.source_id)).size).toBe(2);
  });

  it('already shows variety before the first tick', () => {
    const m = createMarket({ seed: 3 });
    const statuses = new Set([...m.tasks.values()].map((t) => t.status));
    const families = new Set([...m.installs.values()].map((i) => family(i.state.state)));
    expect(statuses.size).toBeGreaterThanOrEqual(3);
    expect(families.size).toBeGreaterThanOrEqual(4);
    expect([...m.hydrations.values()].some((h) => h.state === 'processing')).toBe(true);
  });

  it('over simulated ticks moves tasks through >= 3 statuses and apps through >= 4 stage families', () => {
    const statuses = new Set<number>();
    const families = new Set<string>();
    const types = new Set<number>();
    run(11, 300, (m) => {
      for (const t of m.tasks.values()) if (t.created_at > m.options.start) { statuses.add(t.status); types.add(t.type); }
      for (const i of m.installs.values()) families.add(family(i.state.state));
    });
    expect(statuses.size).toBeGreaterThanOrEqual(3);
    expect(types.size).toBeGreaterThanOrEqual(4); // install, uninstall, cancel, upgrade, clone
    expect(families.size).toBeGreaterThanOrEqual(4);
  });

  it('follows app-service sequences: an install goes pending -> downloading -> installing -> initializing -> running', () => {
    const seen = new Map<string, string[]>();
    run(5, 300, (m) => {
      for (const i of m.installs.values()) {
        const trail = seen.get(i.key) ?? [];
        if (trail.at(-1) !== i.state.state) trail.push(i.state.state);
        seen.set(i.key, trail);
      }
    });
    const installs = [...seen.values()].filter((t) => t[0] === 'pending' && t.includes('running'));
    expect(installs.length).toBeGreaterThan(0);
    for (const trail of installs) {
      // the last attempt before the first running (a failed download may have been retried)
      const end = trail.indexOf('running');
      const upToRunning = trail.slice(trail.lastIndexOf('pending', end), end + 1);
      // the workload steps once a second, so a short state may be stepped over but never reordered
      const order = ['pending', 'downloading', 'installing', 'initializing', 'running'];
      const idx = upToRunning.map((s) => order.indexOf(s));
      expect(idx.every((x) => x >= 0)).toBe(true);
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
    }
  });

  it('keeps tasks consistent with their apps: a finished task has completed_at, a running one started_at', () => {
    const m = run(9, 200);
    // every status is there, so each check below is met
    expect(new Set([...m.tasks.values()].map((t) => t.status))).toEqual(new Set(Object.values(TASK_STATUS)));
    for (const t of m.tasks.values()) {
      if (t.status >= TASK_STATUS.completed) expect(t.completed_at).not.toBeNull();
      if (t.status === TASK_STATUS.running) expect(t.started_at).not.toBeNull();
      if (t.status === TASK_STATUS.failed) expect(t.error_msg).not.toBe('');
      expect(m.users).toContain(t.user_account);
    }
  });

  it('sends entrances unhealthy now and then, fails renders, and syncs the catalog per source', () => {
    let unhealthy = 0;
    let renderFailed = 0;
    const m = run(13, 120, (mm) => {
      for (const i of mm.installs.values()) {
        if (i.state.status_entrances.some((e) => e.state !== 'running') && i.state.state === 'running') unhealthy++;
        if (i.render_status === 'failed') renderFailed++;
      }
    });
    expect(unhealthy).toBeGreaterThan(0);
    expect(renderFailed).toBeGreaterThan(0);
    expect(m.catalog.size).toBeGreaterThan(0);
    for (const app of m.catalog.values()) expect(m.now - app.updated_at).toBeLessThanOrEqual(m.options.syncEveryMs);
  });

  it('stays bounded: the install count hovers near its target and task history is pruned', () => {
    const m = run(21, 1800);
    expect(m.installs.size).toBeGreaterThan(24);
    expect(m.installs.size).toBeLessThan(96);
    expect(m.tasks.size).toBeLessThanOrEqual(Math.max(300, m.installs.size * 3) + 50);
  });

  it('records what changed so a tick writes only that', () => {
    const m = createMarket({ seed: 2 });
    drainChanges(m);
    stepMarket(m, m.options.start + 1000);
    const c = drainChanges(m);
    expect(c.installs.size + c.tasks.size + c.removedInstalls.size).toBeGreaterThan(0);
    expect(c.installs.size).toBeLessThan(m.installs.size);
    expect(drainChanges(m).installs.size).toBe(0);
  });

  it('follows the configured rates and sizes', () => {
    const m = createMarket({ users: 3, sources: 3, appsPerUser: 4, eventsPerSecond: 0 });
    expect(m.installs.size).toBe(12);
    expect(m.sources).toHaveLength(3);
    const before = m.tasks.size;
    stepMarket(m, m.options.start + 60_000);
    // no user events at 0/s: only tasks already under way may finish, none is created
    expect(m.tasks.size).toBe(before);
  });
});
