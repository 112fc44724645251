import { afterAll, beforeAll, expect, it } from 'vitest';
import { fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';

const COUNT = 5000;
let sc: Awaited<ReturnType<typeof startInProcess>>;

beforeAll(async () => {
  // every pass replaces all 5,000 tasks with new ids tagged with the pass number
  sc = await startInProcess([fake('tasks', { mode: 'passes', count: COUNT })], { intervalMs: 100 });
  await untilReady(sc.base);
});
afterAll(() => sc.sup.stop());

type Task = { result: string; status: string };

function checkOnePass(tasks: Record<string, Task>, summary: Record<string, number>, expectedTotal?: number) {
  const passes = new Set(Object.values(tasks).map((t) => t.result));
  expect(passes.size).toBe(1);
  const values = Object.values(tasks);
  if (expectedTotal !== undefined) expect(values.length).toBe(expectedTotal);
  expect(summary.total_tasks).toBe(values.length);
  for (const status of ['pending', 'running', 'completed', 'failed'] as const) {
    expect(summary[`${status}_tasks`]).toBe(values.filter((t) => t.status === status).length);
  }
  return [...passes][0];
}

it('readers never see a mix of two passes while passes replace 5,000 tasks', async () => {
  const seen = new Set<string>();
  let reads = 0;
  // reads until passes really changed under the readers (a liveness bound, not a time budget)
  const end = Date.now() + LIVENESS_MS;
  const reader = async (path: string, total?: number) => {
    while (Date.now() < end && (seen.size <= 3 || reads <= 20)) {
      const body = await (await sc.get(path)).json();
      seen.add(checkOnePass(body.data.tasks, body.data.summary, total));
      reads += 1;
    }
  };
  await Promise.all([
    reader('/api/v2/runtime/state', COUNT),
    reader('/api/v2/runtime/state', COUNT),
    reader('/api/v2/runtime/state?task_status=running'),
    reader('/api/v2/runtime/state?user_id=user3'),
  ]);
  // the test means something only if passes really changed under the readers
  expect(seen.size).toBeGreaterThan(3);
  expect(reads).toBeGreaterThan(20);
});
