// node --expose-gc --import tsx bench/timeline-memory.ts [--json]
// The heap the timelines hold when full: 10,000 apps and their tasks recorded until both kinds reach their
// share of TIMELINE_LIMITS.total (plus the latest entry of each app and task in view, which the bound does not
// count), each entry with strings of its own (times, details, event ids: in the store the latest are shared
// with the rows) and every detail at its bound: stage details and errors arrive at the 8,192 characters a
// source may send (a non-Latin-1 character in each, so they take two bytes a character) and are clipped. So
// this is an upper bound. Values are structured clones, as a pass crosses to the store thread (flat strings, as
// the store holds them). It prints the heap against the issue's ≤ 16 MiB; test/store/timeline-memory.test.ts runs
// it for the entry counts (bytes an entry are V8's layout: a figure here, not a test); docs/performance.md states it.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { LIMITS, type AppFlowState, type TaskState } from '../src/model/index.ts';
import { EntityTimelines } from '../src/store/entity-timelines.ts';
import { eventEvidence } from '../src/store/event-order.ts';
import { TIMELINE_LIMITS, type TimelineKind } from '../src/store/timeline.ts';

/** issue 22: the timelines' heap when full at 10,000 apps */
const TARGET_MIB = 16;
const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const APPS = 10_000;
/**
 * tasks in view (active ones and the last RECENT_TASK_LIMIT finished): older ones leave, their histories kept
 * an hour. So many that the tasks' bound, which follows what is in view (TIMELINE_LIMITS.perInView), is at its
 * cap: the worst case
 */
const RECENT_TASKS = TIMELINE_LIMITS.tasks / TIMELINE_LIMITS.perInView;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
/** a time string of its own, as each parsed row or event gives one */
const time = (ms: number) => new Date(ms).toISOString();
/** a source's longest text: `start`, then filler up to LIMITS.text characters */
const longest = (start: string) => `${start} — ${'x'.repeat(LIMITS.text)}`.slice(0, LIMITS.text);

/** an app at one step of an install: downloading with progress, then installing, then running */
function app(i: number, step: number): AppFlowState {
  const task = randomUUID();
  const stages = [
    { stage: 'installing', progress: '12', detail: `downloading (progress 12); install task ${task} running` },
    { stage: 'installing', progress: '64', detail: `downloading (progress 64); install task ${task} running` },
    { stage: 'installing', progress: '100', detail: `installing (progress 100); install task ${task} running` },
    { stage: 'running', progress: undefined, detail: `running; entrance web is ${task}` },
  ] as const;
  const s = stages[step % stages.length]!;
  return {
    app_id: `app-${i}`, app_name: `app-${i}`, user_id: `user${i % 100}`, source_id: 'market.olares',
    stage: s.stage, health: s.stage === 'running' ? 'healthy' : 'unknown', stage_detail: longest(s.detail),
    last_update: time(T0 + i * 1000 + step * 60_000),
    metadata: { status: s.progress === undefined ? {} : { progress: s.progress } },
  };
}

function task(i: number, id: string, status: 'running' | 'failed'): TaskState {
  return {
    task_id: id, type: 'install', status, app_name: `app-${i}`, user_id: `user${i % 100}`,
    created_at: time(T0 + i * 1000), started_at: time(T0 + i * 1000 + 5_000),
    ...(status === 'failed' ? { completed_at: time(T0 + i * 1000 + 90_000), error_msg: longest(`image pull failed: registry ${i} timed out`) } : {}),
  };
}

function fill(): { timelines: EntityTimelines; keys: Record<TimelineKind, string[]> } {
  const timelines = new EntityTimelines(time(T0), () => new Date(T0 + 3_600_000));
  /**
   * entries the bound still has room for: a record past it would trim the timeline to 90 %. The fill reaches
   * each kind's cap (its share of TIMELINE_LIMITS.total): 10,000 apps and RECENT_TASKS tasks in view
   */
  const room = (kind: TimelineKind) => {
    const { entries, in_view, bound } = timelines.entries()[kind];
    return bound - (entries - in_view);
  };
  const keys: Record<TimelineKind, string[]> = { app_states: [], tasks: [] };
  for (let i = 0; i < APPS; i++) keys.app_states.push(`user${i % 100}:market.olares:app-${i}`);
  // every app through its install, polls and pushed events in turn, until the apps' share is full
  for (let step = 0; room('app_states') > 0; step++) {
    for (let i = 0; i < APPS && room('app_states') > 0; i++) {
      const key = keys.app_states[i]!;
      const evidence = step % 2 === 0 ? 'poll user_application_states' : eventEvidence(structuredClone({ key, at: '', id: randomUUID(), app: null }));
      timelines.record('app_states', key, structuredClone(app(i, step)), evidence);
    }
    // the store commits after every pass, and a version takes the entries it carries
    timelines.take();
  }
  // tasks seen running (their past rebuilt: pending, running), then failed with an error; past the last
  // RECENT_TASKS they leave the view (an entry `removed`): each step adds one entry to what the bound counts,
  // a departure two
  for (let i = 0; room('tasks') > 0; i++) {
    const id = randomUUID();
    keys.tasks.push(id);
    timelines.record('tasks', id, structuredClone(task(i, id, 'running')), 'poll task_records');
    if (room('tasks') > 0) timelines.record('tasks', id, structuredClone(task(i, id, 'failed')), 'poll task_records');
    if (timelines.entries().tasks.in_view > RECENT_TASKS && room('tasks') > 1) {
      timelines.gone('tasks', keys.tasks[i - RECENT_TASKS]!, time(T0 + i * 1000 + 90_000), 'poll task_records');
    }
    if (i % 100 === 99) timelines.take();
  }
  timelines.take();
  return { timelines, keys };
}

gc();
const before = process.memoryUsage().heapUsed;
const { timelines, keys } = fill();
gc();
const bytes = process.memoryUsage().heapUsed - before;
const entries = timelines.entries();
const total = entries.app_states.entries + entries.tasks.entries;
// the entries that carry a detail carry it at the bound (read after measuring)
const detailChars = { min: Infinity, max: 0 };
for (const kind of ['app_states', 'tasks'] as const) {
  for (const key of keys[kind]) {
    for (const e of JSON.parse(timelines.history(kind, key) ?? '{"entries":[]}').entries as { detail?: string }[]) {
      if (e.detail === undefined) continue;
      detailChars.min = Math.min(detailChars.min, e.detail.length);
      detailChars.max = Math.max(detailChars.max, e.detail.length);
    }
  }
}
const result = { entries, bytes, mib: bytes / 2 ** 20, bytes_per_entry: bytes / total, detail_chars: detailChars };
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(`timelines full at ${APPS.toLocaleString()} apps: ${total.toLocaleString()} entries (${entries.app_states.entries.toLocaleString()} apps, ${entries.tasks.entries.toLocaleString()} tasks; `
    + `${entries.app_states.in_view.toLocaleString()} apps and ${entries.tasks.in_view.toLocaleString()} tasks in view), details of ${detailChars.min}-${detailChars.max} characters, `
    + `${result.mib.toFixed(1)} MiB of heap, ${Math.round(result.bytes_per_entry)} bytes an entry\n`);
  process.stdout.write(`target: <= ${TARGET_MIB} MiB at 10,000 apps: ${result.mib <= TARGET_MIB ? 'met' : 'NOT met'}\n`);
}
