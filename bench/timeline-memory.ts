// node --expose-gc --import tsx bench/timeline-memory.ts [--json]
// The heap the timelines hold when full: 10,000 apps and their tasks recorded until both kinds reach their
// share of TIMELINE_LIMITS.total, each entry with strings of its own (times, details, event ids: in the store
// the latest are shared with the rows, so this is an upper bound). Values are structured clones, as a pass
// crosses to the store thread (flat strings, as the store holds them). test/store/timeline-memory.test.ts runs it and
// holds the figure to the ≤ 16 MiB of the issue; docs/performance.md states it.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { AppFlowState, TaskState } from '../src/model/index.ts';
import { EntityTimelines } from '../src/store/entity-timelines.ts';
import { eventEvidence } from '../src/store/event-order.ts';
import { TIMELINE_LIMITS } from '../src/store/timeline.ts';

const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const APPS = 10_000;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
/** a time string of its own, as each parsed row or event gives one */
const time = (ms: number) => new Date(ms).toISOString();

/** an app at one step of an install: downloading with progress, then installing, then running */
function app(i: number, step: number): AppFlowState {
  const task = randomUUID();
  const stages = [
    { stage: 'installing', progress: '12', detail: `downloading (progress 12); install task ${task} running` },
    { stage: 'installing', progress: '64', detail: `downloading (progress 64); install task ${task} running` },
    { stage: 'installing', progress: '100', detail: `installing (progress 100); install task ${task} running` },
    { stage: 'running', progress: undefined, detail: 'running' },
  ] as const;
  const s = stages[step % stages.length]!;
  return {
    app_id: `app-${i}`, app_name: `app-${i}`, user_id: `user${i % 100}`, source_id: 'market.olares',
    stage: s.stage, health: s.stage === 'running' ? 'healthy' : 'unknown', stage_detail: s.detail,
    last_update: time(T0 + i * 1000 + step * 60_000),
    metadata: { status: s.progress === undefined ? {} : { progress: s.progress } },
  };
}

function task(i: number, status: 'running' | 'failed'): TaskState {
  return {
    task_id: randomUUID(), type: 'install', status, app_name: `app-${i}`, user_id: `user${i % 100}`,
    created_at: time(T0 + i * 1000), started_at: time(T0 + i * 1000 + 5_000),
    ...(status === 'failed' ? { completed_at: time(T0 + i * 1000 + 90_000), error_msg: `image pull failed: registry ${i} timed out` } : {}),
  };
}

function fill(): EntityTimelines {
  const timelines = new EntityTimelines(time(T0), () => new Date(T0 + 3_600_000));
  const appCap = TIMELINE_LIMITS.total - TIMELINE_LIMITS.tasks;
  // every app through its install, polls and pushed events in turn, until the apps' share is full
  for (let step = 0; timelines.entries().app_states < appCap; step++) {
    for (let i = 0; i < APPS && timelines.entries().app_states < appCap; i++) {
      const key = `user${i % 100}:market.olares:app-${i}`;
      const evidence = step % 2 === 0 ? 'poll user_application_states' : eventEvidence(structuredClone({ key, at: '', id: randomUUID(), app: null }));
      timelines.record('app_states', key, structuredClone(app(i, step)), evidence);
    }
  }
  // tasks seen running (their past rebuilt: pending, running), then failed with an error
  for (let i = 0; timelines.entries().tasks < TIMELINE_LIMITS.tasks; i++) {
    const running = structuredClone(task(i, 'running'));
    timelines.record('tasks', running.task_id, running, 'poll task_records');
    if (timelines.entries().tasks < TIMELINE_LIMITS.tasks) {
      timelines.record('tasks', running.task_id, structuredClone({ ...task(i, 'failed'), task_id: running.task_id }), 'poll task_records');
    }
  }
  return timelines;
}

gc();
const before = process.memoryUsage().heapUsed;
const timelines = fill();
gc();
const bytes = process.memoryUsage().heapUsed - before;
const entries = timelines.entries();
const total = entries.app_states + entries.tasks;
const result = { entries, bytes, mib: bytes / 2 ** 20, bytes_per_entry: bytes / total };
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else process.stdout.write(`timelines full at ${APPS.toLocaleString()} apps: ${total.toLocaleString()} entries (${entries.app_states.toLocaleString()} apps, ${entries.tasks.toLocaleString()} tasks), ${result.mib.toFixed(1)} MiB of heap, ${Math.round(result.bytes_per_entry)} bytes an entry\n`);
