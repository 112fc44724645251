import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CACHE_PAIRS_SHOWN, databaseDown, normalizeComponents, type ComponentStats,
} from '../../src/collect/components.ts';
import { ComponentStatus } from '../../src/model/index.ts';
import { GO_COMPONENT_METRICS, GoComponentStatus, GoRuntimeSnapshot } from '../../src/model/go-wire.ts';
import { goWireIssues } from '../helpers/go-wire.ts';
import { goText } from '../helpers/go-text.ts';
import * as v from 'valibot';
import { loadConfig } from '../../src/config.ts';
import { realCollectors } from '../../src/supervisor/collectors.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const MIN = 60_000;

function stats(over: Partial<ComponentStats> = {}): ComponentStats {
  return {
    tasks: { pending: 2, running: 1, oldest_pending_at: ago(90_000) },
    render: [
      { render_status: 'failed', apps: 2, consecutive_failures: 5, newest_failure_at: ago(30 * MIN) },
      { render_status: 'pending', apps: 3, consecutive_failures: 0, newest_failure_at: null },
      { render_status: 'success', apps: 10, consecutive_failures: 0, newest_failure_at: null },
    ],
    sources: [
      { source_id: 'market.olares', source_type: 'remote', is_active: true, apps: 40, newest_update: ago(5 * MIN) },
      { source_id: 'upload', source_type: 'local', is_active: true, apps: 1, newest_update: ago(500 * MIN) },
    ],
    cache: [
      { user_id: 'alice', source_id: 'market.olares', user_applications: 5, states: 2 },
      { user_id: 'bob', source_id: 'market.olares', user_applications: 3, states: 0 },
      { user_id: 'alice', source_id: 'upload', user_applications: 1, states: 1 },
    ],
    server_version: '15.20',
    latency_ms: 1.234,
    ...over,
  };
}

const byName = (list: ComponentStatus[]) => Object.fromEntries(list.map((c) => [c.name, c]));

describe('normalizeComponents', () => {
  it('produces the five components, each valid for the wire schema, last_check = now', () => {
    const list = normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN });
    expect(list.map((c) => c.name)).toEqual(['task_module', 'hydrator', 'syncer', 'cache', 'postgres']);
    for (const c of list) {
      expect(v.safeParse(ComponentStatus, c).success).toBe(true);
      expect(c.last_check).toBe(NOW.toISOString());
    }
  });

  it('task_module: the Go module\'s metric names plus when the oldest pending task was created (a time, not an age)', () => {
    const c = byName(normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN })).task_module;
    expect(c).toMatchObject({ healthy: true, status: 'running' });
    expect(c.metrics).toEqual({ pending_tasks: 2, running_tasks: 1, oldest_pending_since: goText(ago(90_000)) });
    const none = byName(normalizeComponents(stats({ tasks: { pending: 0, running: 0, oldest_pending_at: null } }), NOW, { stalenessMs: MIN }));
    expect(none.task_module.metrics).toEqual({ pending_tasks: 0, running_tasks: 0 });
  });

  it('hydrator: render_status counts; unhealthy while the market wrote a failing render within the window, judged from the rows\' times; its status Go\'s running either way', () => {
    const quiet = byName(normalizeComponents(stats(), NOW, { stalenessMs: MIN })).hydrator;
    expect(quiet).toMatchObject({ healthy: true, status: 'running' });
    expect(quiet.metrics).toEqual({
      pending: 3, success: 10, failed: 2, total: 15, consecutive_failures: 5, last_failure_at: goText(ago(30 * MIN)),
      queue_length: 3, completed_tasks_count: 10, failed_tasks_count: 2,
    });
    const recent = stats();
    recent.render[0] = { ...recent.render[0], newest_failure_at: ago(4 * MIN) };
    const failing = byName(normalizeComponents(recent, NOW, { stalenessMs: MIN })).hydrator;
    expect(failing).toMatchObject({ healthy: false, status: 'running',
      message: `renders failing: 2 apps, 5 consecutive failures, the latest at ${goText(ago(4 * MIN))}` });
    // the same rows say the same later in the window (no version per pass), and healthy once it passed
    expect(byName(normalizeComponents(recent, new Date(NOW.getTime() + 5 * MIN), { stalenessMs: MIN })).hydrator).toEqual({ ...failing, last_check: new Date(NOW.getTime() + 5 * MIN).toISOString() });
    expect(byName(normalizeComponents(recent, new Date(NOW.getTime() + 7 * MIN), { stalenessMs: MIN })).hydrator.healthy).toBe(true);
    // a window of the operator's
    expect(byName(normalizeComponents(stats(), NOW, { stalenessMs: MIN, renderFailureWindowMs: 60 * MIN })).hydrator.healthy).toBe(false);
  });

  it('syncer: per-source catalog time (no age: it would change every pass); a local source is never stale', () => {
    const c = byName(normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN })).syncer;
    expect(c).toMatchObject({ healthy: true, status: 'running' });
    expect(c.metrics).toEqual({
      staleness_bound_s: 1800,
      stale_sources: 0,
      sources: {
        'market.olares': { source_type: 'remote', is_active: true, apps: 40, newest_update: goText(ago(5 * MIN)), stale: false },
        upload: { source_type: 'local', is_active: true, apps: 1, newest_update: goText(ago(500 * MIN)), stale: false },
      },
      // the local source is an upload, not synced: it does not count
      last_sync_time: goText(ago(5 * MIN)),
    });
  });

  it('syncer: degraded past the staleness bound, or when an active remote source has no catalog rows', () => {
    const s = stats({
      sources: [
        { source_id: 'a', source_type: 'remote', is_active: true, apps: 1, newest_update: ago(45 * MIN) },
        { source_id: 'b', source_type: 'remote', is_active: true, apps: 0, newest_update: null },
        { source_id: 'c', source_type: 'remote', is_active: false, apps: 1, newest_update: ago(900 * MIN) },
        { source_id: 'd', source_type: '', is_active: null, apps: 1, newest_update: ago(900 * MIN) },
      ],
    });
    const c = byName(normalizeComponents(s, NOW, { stalenessMs: 30 * MIN })).syncer;
    expect(c).toMatchObject({
      healthy: false, status: 'degraded', message: `catalog not updated: a (since ${goText(ago(45 * MIN))}), b (no catalog rows)`,
    });
    expect(c.metrics!.stale_sources).toBe(2);
    expect(byName(normalizeComponents(s, NOW, { stalenessMs: 60 * MIN })).syncer.metrics!.stale_sources).toBe(1);
  });

  it('cache: counts per user and source', () => {
    const c = byName(normalizeComponents(stats(), NOW, { stalenessMs: MIN })).cache;
    expect(c.metrics).toEqual({
      users: 2, user_applications: 9, app_states: 3, pairs: 3, pairs_truncated: false,
      by_user: {
        alice: { 'market.olares': { user_applications: 5, states: 2 }, upload: { user_applications: 1, states: 1 } },
        bob: { 'market.olares': { user_applications: 3, states: 0 } },
      },
      by_source: { 'market.olares': { user_applications: 8, users: 2 }, upload: { user_applications: 1, users: 1 } },
      total_users: 2, total_sources: 2, total_apps: 9, total_app_state_latest: 3, total_app_info_latest: 10,
      total_app_info_pending: 3,
    });
  });

  it('cache: lists a bounded number of pairs so the metrics stay within the size limit', () => {
    const cache = Array.from({ length: 5000 }, (_, i) => ({
      user_id: `user-with-a-long-name-${i}`, source_id: 'market.olares', user_applications: i, states: 1,
    }));
    const c = byName(normalizeComponents(stats({ cache }), NOW, { stalenessMs: MIN })).cache;
    expect(c.metrics).toMatchObject({ users: 5000, pairs: 5000, pairs_truncated: true });
    expect(Object.keys(c.metrics!.by_user as object)).toHaveLength(CACHE_PAIRS_SHOWN);
    // per source over every pair, not only those listed
    expect(c.metrics!.by_source).toEqual({ 'market.olares': { user_applications: 5000 * 4999 / 2, users: 5000 } });
    expect(v.safeParse(ComponentStatus, c).success).toBe(true);
  });

  it('the Go client check catches what a Go dashboard would misread: a wrong-typed slice, no metrics, a status word Go never sends', () => {
    const list = byName(normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN }));
    const issues = (c: object) => goWireIssues(GoComponentStatus, c);
    expect(issues({ ...list.hydrator, metrics: { ...list.hydrator.metrics, workers: 'x' } })).not.toEqual([]);
    expect(issues({ ...list.hydrator, metrics: { ...list.hydrator.metrics, active_tasks: 5 } })).not.toEqual([]);
    const { metrics: _m, ...bare } = list.cache;
    expect(issues(bare)).not.toEqual([]);
    // one whose source was never read has none to tell
    expect(issues({ ...bare, healthy: false })).toEqual([]);
    expect(issues({ ...list.task_module, status: 'error' })).not.toEqual([]);
    expect(issues({ ...list.syncer, status: 'degraded' })).toEqual([]);
    const snapshot = (over: object) => ({
      timestamp: NOW.toISOString(), app_states: {}, tasks: {}, components: { cache: list.cache },
      summary: { total_apps: 0, total_tasks: 0, pending_tasks: 0, running_tasks: 0, completed_tasks: 0, failed_tasks: 0, healthy_apps: 0, unhealthy_apps: 0, active_components: 1 },
      ...over,
    });
    expect(goWireIssues(GoRuntimeSnapshot, snapshot({}))).toEqual([]);
    expect(goWireIssues(GoRuntimeSnapshot, snapshot({ components: { hydrator: list.cache } }))).not.toEqual([]);
  });

  it('carries Go\'s component names and metric keys, typed as Go sends them, and nothing that ticks with time', () => {
    const list = byName(normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN }));
    for (const name of ['cache', 'hydrator', 'syncer', 'task_module'] as const) {
      expect(goWireIssues(GoComponentStatus, list[name])).toEqual([]);
    }
    expect(list.cache.metrics).toMatchObject({ total_users: 2, total_apps: 9, total_app_state_latest: 3 });
    expect(list.task_module.metrics).toMatchObject({ pending_tasks: 2, running_tasks: 1 });
    expect(list.hydrator.metrics).toMatchObject({ queue_length: 3, failed_tasks_count: 2 });
    // keys a sidecar cannot know are left out, not faked
    for (const k of ['instance_id']) expect(list.task_module.metrics).not.toHaveProperty(k);
    for (const k of ['total_tasks_processed', 'active_tasks_count', 'is_running', 'enabled']) expect(list.hydrator.metrics).not.toHaveProperty(k);
    for (const k of ['sync_interval', 'total_syncs', 'next_sync_time', 'is_running']) expect(list.syncer.metrics).not.toHaveProperty(k);
    // last_sync_time is a time: a later pass over the same rows tells the same
    const later = byName(normalizeComponents(stats(), new Date(NOW.getTime() + MIN), { stalenessMs: 30 * MIN }));
    expect(later.syncer.metrics!.last_sync_time).toBe(list.syncer.metrics!.last_sync_time);
    expect(later.cache.metrics).toEqual(list.cache.metrics);
  });

  it('syncer: of Go\'s keys only last_sync_time, which the catalog tells; the rest are the syncer loop\'s own state', () => {
    const c = byName(normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN })).syncer;
    const goKeys = Object.keys(GO_COMPONENT_METRICS.syncer.entries);
    expect(goKeys.filter((k) => k in c.metrics!)).toEqual(['last_sync_time']);
    for (const k of ['total_steps', 'current_source', 'consecutive_failures', 'last_synced_app_count', 'success_rate', 'last_sync_details', 'step_count']) {
      expect(goKeys).toContain(k);
    }
  });

  it('every Go metric key we do not send is in the docs\' list of keys a sidecar cannot know', () => {
    const list = byName(normalizeComponents(stats(), NOW, { stalenessMs: 30 * MIN }));
    // each component's part of the row: "`task_module.instance_id`; the hydrator's …; the syncer's …; the cache's …"
    const part = { task_module: 'task_module.', hydrator: 'hydrator\'s', syncer: 'syncer\'s', cache: 'cache\'s' } as const;
    for (const doc of ['README.md', 'docs/api.md']) {
      const row = readFileSync(new URL(`../../${doc}`, import.meta.url), 'utf8').split('\n').find((l) => l.includes('Go keys a sidecar cannot know'));
      expect(row, doc).toBeDefined();
      for (const [name, marker] of Object.entries(part) as [keyof typeof part, string][]) {
        const segment = row!.split(';').find((x) => x.includes(marker)) ?? '';
        const wildcards = [...segment.matchAll(/`([a-z_]+)\*`/g)].map((m) => m[1]);
        const listed = (k: string) => segment.includes(`\`${k}\``) || segment.includes(`.${k}\``) || wildcards.some((w) => k.startsWith(w));
        const unsent = Object.keys(GO_COMPONENT_METRICS[name].entries).filter((k) => !(k in list[name].metrics!));
        expect(unsent.filter((k) => !listed(k)), `${doc}: ${name}`).toEqual([]);
      }
    }
  });

  it('postgres: healthy with its server version (the latency is a counter of the source, not content)', () => {
    const c = byName(normalizeComponents(stats(), NOW, { stalenessMs: MIN })).postgres;
    expect(c).toEqual({
      name: 'postgres', healthy: true, status: 'running', last_check: NOW.toISOString(),
      metrics: { server_version: '15.20' },
    });
  });
});

describe('databaseDown', () => {
  it('turns postgres and task_module unhealthy, keeping their last metrics; task_module keeps Go\'s status', () => {
    const last = new Map(normalizeComponents(stats(), ago(5000), { stalenessMs: MIN }).map((c) => [c.name, c]));
    expect(databaseDown('connect ECONNREFUSED 127.0.0.1:5432', NOW, last)).toEqual([
      {
        name: 'postgres', healthy: false, status: 'error', last_check: NOW.toISOString(),
        metrics: { server_version: '15.20' },
        message: 'database unreachable: connect ECONNREFUSED 127.0.0.1:5432',
      },
      {
        name: 'task_module', healthy: false, status: 'running', last_check: NOW.toISOString(),
        metrics: { pending_tasks: 2, running_tasks: 1, oldest_pending_since: goText(ago(90_000)) }, // as of the last good pass
        message: 'database unreachable: connect ECONNREFUSED 127.0.0.1:5432',
      },
    ]);
  });

  it('says the query failed, not that the database is unreachable, when the server answered with an error', () => {
    expect(databaseDown('relation "task_records" does not exist', NOW, new Map(), true).map((c) => c.message)).toEqual([
      'database query failed: relation "task_records" does not exist', 'database query failed: relation "task_records" does not exist',
    ]);
  });

  it('works before any successful pass', () => {
    expect(databaseDown('x', NOW, new Map()).map((c) => [c.name, c.healthy, 'metrics' in c])).toEqual([
      ['postgres', false, false], ['task_module', false, false],
    ]);
  });
});

describe('SYNCER_STALE_AFTER_MS', () => {
  const env = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/market' };

  it('defaults to 30 minutes, is configurable, and reaches the components collector', () => {
    expect(loadConfig(env).syncerStaleAfterMs).toBe(30 * MIN);
    const config = loadConfig({ ...env, SYNCER_STALE_AFTER_MS: '600000' });
    expect(config.syncerStaleAfterMs).toBe(600_000);
    const components = realCollectors(config, { databaseUrl: env.DATABASE_URL, chartRepoHost: 'localhost:82' })
      .find((c) => c.source === 'components');
    expect(components?.options).toMatchObject({ syncerStalenessMs: 600_000 });
  });

  it('a bad value is a clear configuration error', () => {
    expect(() => loadConfig({ ...env, SYNCER_STALE_AFTER_MS: '10 minutes' })).toThrow(/SYNCER_STALE_AFTER_MS: must be a whole number/);
    expect(() => loadConfig({ ...env, SYNCER_STALE_AFTER_MS: '5' })).toThrow(/SYNCER_STALE_AFTER_MS: must be at least 1000/);
  });
});
