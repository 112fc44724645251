/**
 * Issue 22: timelines are bounded per entity and in total, with compact entries. Checked here in what the
 * store counts, not in heap bytes (how many bytes an entry takes is V8's layout, which moves between Node
 * versions): full at 10,000 apps (bench/timeline-memory.ts fills them, in a process of its own), they hold
 * exactly their bound of entries beyond the latest of each app and task in view, every detail clipped to
 * TIMELINE_LIMITS.detail characters; one entity holds at most TIMELINE_LIMITS.perEntity. The heap those full
 * timelines take (≤ 16 MiB) is the bench's figure (`node --expose-gc --import tsx bench/timeline-memory.ts`,
 * docs/performance.md), not asserted in a test.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EntityTimelines } from '../../src/store/entity-timelines.ts';
import { TIMELINE_LIMITS } from '../../src/store/timeline.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { app, T0, task } from '../helpers/store-fixtures.ts';

const SCRIPT = fileURLToPath(new URL('../../bench/timeline-memory.ts', import.meta.url));

describe('timeline bounds', () => {
  it('full timelines at 10,000 apps hold their bound of entries, no more, each detail clipped to its bound', async () => {
    // (a fill that never ends is killed with the test, not left running beside the next ones)
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, '--json'], { timeout: LIVENESS_MS });
    const measured = JSON.parse(stdout) as {
      entries: Record<'app_states' | 'tasks', { entries: number; in_view: number; bound: number }>;
      detail_chars: { min: number; max: number };
    };
    // filled to the cap, not below it: the total beyond one entry per app and task in view (each kind's share of
    // it may lend to the other, so how it splits depends on the order they filled in)
    const { app_states: apps, tasks } = measured.entries;
    expect([apps.in_view, tasks.in_view]).toEqual([10_000, expect.any(Number)]);
    expect(apps.entries - apps.in_view + tasks.entries - tasks.in_view).toBe(TIMELINE_LIMITS.total);
    // the longest details a source sends (8,192 characters) are kept at the bound, no longer
    expect(measured.detail_chars).toEqual({ min: TIMELINE_LIMITS.detail, max: TIMELINE_LIMITS.detail });
  });

  it('a kind uses what the other leaves of its share, and gives it back as the other grows: never past the total', () => {
    const timelines = new EntityTimelines(T0, () => new Date(Date.parse(T0) + 60_000));
    const beyond = () => {
      const e = timelines.entries();
      return { apps: e.app_states.entries - e.app_states.in_view, tasks: e.tasks.entries - e.tasks.in_view };
    };
    // a few apps; tasks that come and go (each: pending, running, failed, removed): far more than the tasks' share
    for (let i = 0; i < 5_000; i++) {
      const id = `t-${i}`;
      for (const status of ['pending', 'running', 'failed'] as const) timelines.record('tasks', id, task(id, 'wiki', 'alice', { status }), 'poll task_records');
      timelines.gone('tasks', id, T0, 'poll task_records');
    }
    expect(beyond().tasks).toBeGreaterThan(TIMELINE_LIMITS.tasks * 3);
    expect(beyond().apps + beyond().tasks).toBeLessThanOrEqual(TIMELINE_LIMITS.total);
    // then apps move, many of them: they take their share back, and the tasks keep theirs
    const apps = TIMELINE_LIMITS.total;
    for (let step = 0; step < 3; step++) {
      for (let i = 0; i < apps; i++) {
        timelines.record('app_states', `alice:market:app-${i}`, app('alice', 'market', `app-${i}`, {
          stage: 'installing', metadata: { status: { progress: String(step * 10) } },
        }), 'poll user_application_states');
        expect(beyond().apps + beyond().tasks).toBeLessThanOrEqual(TIMELINE_LIMITS.total);
      }
    }
    expect(beyond().apps).toBeGreaterThanOrEqual((TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks) * 0.9);
    expect(beyond().tasks).toBeGreaterThanOrEqual(TIMELINE_LIMITS.tasks * 0.9);
  });

  it('one app or task keeps its latest TIMELINE_LIMITS.perEntity transitions, no more', () => {
    const timelines = new EntityTimelines(T0, () => new Date(Date.parse(T0) + 3_600_000));
    const at = (i: number) => new Date(Date.parse(T0) + i * 1000).toISOString();
    const n = TIMELINE_LIMITS.perEntity + 10;
    for (let i = 0; i < n; i++) {
      // each pass a new progress (an app) or a new status (a task): every one a transition
      timelines.record('app_states', 'alice:market:wiki', app('alice', 'market', 'wiki', {
        stage: 'installing', last_update: at(i), metadata: { status: { progress: String(i) } },
      }), 'poll user_application_states');
      timelines.record('tasks', 't-1', task('t-1', 'wiki', 'alice', { status: i % 2 ? 'running' : 'pending' }), 'poll task_records');
    }
    const history = (kind: 'app_states' | 'tasks', key: string) => JSON.parse(timelines.history(kind, key)!) as { entries: { progress?: string }[] };
    const wiki = history('app_states', 'alice:market:wiki').entries;
    expect(wiki).toHaveLength(TIMELINE_LIMITS.perEntity);
    // the latest kept, the oldest dropped
    expect(wiki.map((e) => e.progress)).toEqual(Array.from({ length: TIMELINE_LIMITS.perEntity }, (_, i) => String(n - TIMELINE_LIMITS.perEntity + i)));
    expect(history('tasks', 't-1').entries).toHaveLength(TIMELINE_LIMITS.perEntity);
    expect(timelines.entries().app_states.entries).toBe(TIMELINE_LIMITS.perEntity);
    expect(timelines.entries().tasks.entries).toBe(TIMELINE_LIMITS.perEntity);
  });
});
