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
    // filled to the cap, not below it: the total beyond one entry per app and task in view
    const tasksInView = TIMELINE_LIMITS.tasks / TIMELINE_LIMITS.perInView;
    expect(measured.entries).toEqual({
      app_states: { entries: TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks + 10_000, in_view: 10_000, bound: TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks },
      tasks: { entries: TIMELINE_LIMITS.tasks + tasksInView, in_view: tasksInView, bound: TIMELINE_LIMITS.tasks },
    });
    // in all: the total, and the latest entry of each app and task in view
    expect(measured.entries.app_states.entries + measured.entries.tasks.entries).toBe(TIMELINE_LIMITS.total + 10_000 + tasksInView);
    // the longest details a source sends (8,192 characters) are kept at the bound, no longer
    expect(measured.detail_chars).toEqual({ min: TIMELINE_LIMITS.detail, max: TIMELINE_LIMITS.detail });
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
