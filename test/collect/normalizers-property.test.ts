import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { normalizeAppFlow } from '../../src/collect/app-flow.ts';
import { lookupState } from '../../src/collect/stage-table.ts';
import { normalizeTasks } from '../../src/collect/tasks.ts';
import { AppFlowState, TaskState } from '../../src/model/index.ts';
import { GoAppFlowState, GoTaskState } from '../../src/model/go-wire.ts';
import { goWireIssues } from '../helpers/go-wire.ts';
import type { AppRow, TaskRow } from '../../src/sources/market-rows.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const date = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true });
const id = fc.string({ minLength: 1, maxLength: 40 });

const taskRow: fc.Arbitrary<TaskRow> = fc.record({
  active: fc.boolean(),
  task_id: fc.constantFrom('t1', 't2', 't3', 't4'),
  type: fc.integer({ min: -2, max: 8 }),
  status: fc.integer({ min: -2, max: 8 }),
  app_name: id,
  user_account: fc.string({ maxLength: 10 }),
  op_id: fc.string({ maxLength: 10 }),
  metadata: fc.option(fc.oneof(fc.string(), fc.json()), { nil: null }),
  result: fc.string({ maxLength: 50 }),
  error_msg: fc.string({ maxLength: 50 }),
  created_at: date,
  started_at: fc.option(date, { nil: null }),
  completed_at: fc.option(date, { nil: null }),
});

/** times as they come: real ones, any text, impossible dates, and the forms only Go's lenient parser takes */
const statusTime = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(),
  fc.constantFrom('2026-02-30T10:00:00Z', '2025-02-29T00:00:00+01:00', '2026-12-01T9:00:00,5Z', '2026-12-01T10:00:00+24:00'));

const entrance = fc.oneof(
  fc.record({ name: id, state: fc.constantFrom('running', 'stopped', 'notReady', ''), statusTime }, { requiredKeys: ['name', 'state'] }),
  fc.anything(),
);

const manifestEntrance = fc.record({
  name: fc.oneof(id, fc.anything()), port: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.double(), fc.anything()),
  invisible: fc.oneof(fc.boolean(), fc.anything()), url: fc.oneof(fc.string(), fc.anything()), title: fc.string(),
  statusTime,
}, { requiredKeys: [] });

const appRow: fc.Arbitrary<AppRow> = fc.record({
  user_id: fc.constantFrom('alice', 'bob'),
  source_id: fc.constantFrom('market.olares', 'local'),
  app_id: id,
  app_name: fc.constantFrom('wiki', 'blog'),
  app_raw_name: fc.string({ maxLength: 10 }),
  manifest_type: fc.constantFrom('app', 'middleware', ''),
  metadata: fc.oneof(
    fc.record({ icon: fc.oneof(fc.string(), fc.anything()), title: fc.oneof(fc.string(), fc.dictionary(fc.string({ maxLength: 6 }), fc.anything()), fc.anything()) }, { requiredKeys: [] }),
    fc.anything(),
  ),
  entrances: fc.oneof(fc.array(fc.oneof(manifestEntrance, fc.anything()), { maxLength: 4 }), fc.anything()),
  is_sys_app: fc.boolean(),
  shared_entrances: fc.oneof(fc.array(manifestEntrance, { maxLength: 2 }), fc.anything()),
  app_updated_at: date,
  state: fc.option(fc.oneof(fc.constantFrom('running', 'installFailed', 'uninstalled', 'installingCanceled', ''), fc.string()), { nil: null }),
  installed_version: fc.string({ maxLength: 10 }),
  target_version: fc.string({ maxLength: 10 }),
  reason: fc.string(),
  message: fc.string(),
  progress: fc.string({ maxLength: 10 }),
  op_id: fc.string({ maxLength: 10 }),
  op_type: fc.string({ maxLength: 10 }),
  event_create_time: fc.option(date, { nil: null }),
  status_entrances: fc.oneof(fc.array(entrance, { maxLength: 4 }), fc.anything()),
  state_updated_at: fc.option(date, { nil: null }),
});

describe('normalizers never emit what the wire schema would reject', () => {
  it('tasks: one valid TaskState per row (task_id is UNIQUE in task_records), for any rows', () => {
    fc.assert(fc.property(fc.uniqueArray(taskRow, { maxLength: 4, selector: (r) => r.task_id }), (rows) => {
      const { items } = normalizeTasks(rows, NOW);
      expect(items.map((t) => t.task_id)).toEqual(rows.map((r) => r.task_id));
      for (const t of items) {
        expect(v.safeParse(TaskState, t).issues).toBeUndefined();
        expect(goWireIssues(GoTaskState, t)).toEqual([]);
      }
    }));
  });

  it('app flow: valid AppFlowState, and an unknown state string is never shown as running', () => {
    const active = normalizeTasks([], NOW).items;
    let unknownStates = 0;
    fc.assert(fc.property(fc.array(appRow, { maxLength: 8 }), (rows) => {
      const { items } = normalizeAppFlow(rows, active);
      // with no active task, every row with a state is an app, unless the state says it is not installed
      const installed = rows.filter((r) => (r.state ?? '').trim() !== '' && lookupState(r.state!)?.inView !== false);
      expect(items).toHaveLength(installed.length);
      for (const a of items) {
        expect(v.safeParse(AppFlowState, a).issues).toBeUndefined();
        // and what a Go client decodes: metadata.status in the market's shape, whatever the JSONB held
        expect(goWireIssues(GoAppFlowState, a)).toEqual([]);
        const state = (a.metadata!.status as { state: string }).state;
        if (state !== '' && lookupState(state) === undefined) {
          expect(a.stage).toBe('unknown');
          unknownStates++;
        }
      }
    }));
    expect(unknownStates).toBeGreaterThan(0);
  });
});
