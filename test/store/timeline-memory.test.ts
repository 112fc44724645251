/**
 * The timelines' total bound is a memory bound: full (TIMELINE_LIMITS.total entries at 10,000 apps, with
 * strings of their own as a pass's structured clone gives them), they hold at most 16 MiB of heap. Measured
 * by bench/timeline-memory.ts in a process of its own (a full GC before and after: --expose-gc).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TIMELINE_LIMITS } from '../../src/store/timeline.ts';

const SCRIPT = fileURLToPath(new URL('../../bench/timeline-memory.ts', import.meta.url));

describe('timeline memory', () => {
  it('full timelines at 10,000 apps hold at most 16 MiB of heap', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, '--json']);
    const measured = JSON.parse(stdout) as { entries: { app_states: number; tasks: number }; bytes: number };
    // filled to the cap, not below it
    expect(measured.entries).toEqual({ app_states: TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks, tasks: TIMELINE_LIMITS.tasks });
    expect(measured.bytes).toBeGreaterThan(0);
    expect(measured.bytes).toBeLessThanOrEqual(16 * 2 ** 20);
  });
});
