import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKGROUND_NICE, runInBackground } from '../../src/background-priority.ts';
import { describeWith } from '../helpers/services.ts';
import { fake, startInProcess, untilReady } from '../helpers/sidecar.ts';

/** nice value and CPU ticks of every thread of this process (Linux /proc). */
function threads(): Map<number, { nice: number; ticks: number }> {
  const out = new Map<number, { nice: number; ticks: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { nice: Number(f[16]), ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* the thread ended meanwhile */ }
  }
  return out;
}

describeWith('linux', 'background threads yield to the ones answering requests', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  const before = threads();
  beforeAll(async () => {
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 2000 }), fake('components', { mode: 'passes', count: 5 })], { intervalMs: 100 });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('each collector thread runs at nice 10; the main, HTTP and store threads do not', async () => {
    const niced = [...threads()].filter(([tid, t]) => !before.has(tid) && t.nice === BACKGROUND_NICE);
    expect(niced.length).toBeGreaterThanOrEqual(2);
    expect(threads().get(process.pid)?.nice).toBe(0);

    // the thread that answers requests is the one whose CPU grows most under load: it is not niced
    const t0 = threads();
    for (let i = 0; i < 40; i += 1) await Promise.all(Array.from({ length: 25 }, () => sc.get('/api/v2/runtime/state?task_status=running').then((r) => r.arrayBuffer())));
    const grown = [...threads()]
      .filter(([tid]) => tid !== process.pid)
      .map(([tid, t]) => ({ tid, nice: t.nice, ticks: t.ticks - (t0.get(tid)?.ticks ?? t.ticks) }))
      .sort((a, b) => b.ticks - a.ticks);
    expect(grown[0]!.ticks).toBeGreaterThan(0);
    expect(grown[0]!.nice).toBe(0);
  });
});

describe('a thread whose priority cannot be lowered', () => {
  it('reports that it did not take, and the thread keeps normal priority', () => {
    // an out-of-range nice is refused like a sandbox without setpriority would refuse it
    expect(runInBackground('test', 100)).toBe(false);
    expect(threads().get(process.pid)?.nice).toBe(0);
  });
});
