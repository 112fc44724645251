/**
 * The timelines' total bound is a memory bound: full (TIMELINE_LIMITS.total entries beyond the latest of the
 * 10,000 apps and the tasks in view, with strings of their own as a pass's structured clone gives them, every
 * detail at its bound), they hold at most 16 MiB of heap. Measured by bench/timeline-memory.ts in a process of
 * its own (a full GC before and after: --expose-gc).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TIMELINE_LIMITS } from '../../src/store/timeline.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';

const SCRIPT = fileURLToPath(new URL('../../bench/timeline-memory.ts', import.meta.url));

describe('timeline memory', () => {
  it('full timelines at 10,000 apps, every detail at its bound, hold at most 16 MiB of heap', async () => {
    // (a fill that never ends is killed with the test, not left running beside the next ones)
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, '--json'], { timeout: LIVENESS_MS });
    const measured = JSON.parse(stdout) as {
      entries: Record<'app_states' | 'tasks', { entries: number; in_view: number; bound: number }>;
      bytes: number;
      detail_chars: { min: number; max: number };
    };
    // filled to the cap, not below it: the total beyond one entry per app and task in view
    const tasksInView = TIMELINE_LIMITS.tasks / TIMELINE_LIMITS.perInView;
    expect(measured.entries).toEqual({
      app_states: { entries: TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks + 10_000, in_view: 10_000, bound: TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks },
      tasks: { entries: TIMELINE_LIMITS.tasks + tasksInView, in_view: tasksInView, bound: TIMELINE_LIMITS.tasks },
    });
    // with the longest details an entry keeps (clipped from the longest a source sends)
    expect(measured.detail_chars).toEqual({ min: TIMELINE_LIMITS.detail, max: TIMELINE_LIMITS.detail });
    expect(measured.bytes).toBeGreaterThan(0);
    expect(measured.bytes).toBeLessThanOrEqual(16 * 2 ** 20);
  });
});
