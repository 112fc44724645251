/**
 * Issue 18.3: a restarted store is ready once every collector's first good pass reached it. A failed run (the
 * one the old store's death cut short, a transient database error) does not make it ready, or it would serve a
 * view without that source's data; a source that keeps failing (3 runs in a row, or past the grace) counts, so
 * readiness cannot wedge. At the first start any finished run counts, good or bad (nothing was known before).
 */
import { describe, expect, it } from 'vitest';
import type { PassOutcome } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { app, outcome, pass, T0 } from '../helpers/store-fixtures.ts';

const GRACE_MS = 30_000;
const failed = (at: number): PassOutcome => outcome({ ok: false, error: 'connection refused', finished_at: new Date(at).toISOString() });

/** A store on a clock the test moves. */
function storeAt(start: number) {
  let now = start;
  const store = new RuntimeStore(() => new Date(now));
  return { store, later: (ms: number) => { now += ms; return now; } };
}

describe('readiness of a restarted store', () => {
  it('waits for a good pass of every source: failed runs do not count within the grace', () => {
    const { store: s, later } = storeAt(Date.parse(T0));
    s.expectSources(['app_flow', 'tasks'], undefined, GRACE_MS);
    s.apply(pass('tasks', []));
    // the run the old store's death cut short, reported to the new store; then a transient failure
    s.recordOutcome('app_flow', failed(later(10)));
    s.apply(pass('app_flow', [], { ok: false, error: 'read failed', finished_at: new Date(later(1000)).toISOString() }));
    expect(s.ready).toBe(false);
    // the sources block says what failed all the same
    expect(s.freshness().app_flow).toMatchObject({ ok: false, consecutive_failures: 2 });
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]));
    expect(s.ready).toBe(true);
    // the pass that made it ready publishes a version that says so
    expect(s.commit()).not.toBeNull();
  });

  it('counts a source that keeps failing: after 3 failed runs in a row', () => {
    const { store: s, later } = storeAt(Date.parse(T0));
    s.expectSources(['app_flow', 'tasks'], undefined, GRACE_MS);
    s.apply(pass('tasks', []));
    s.recordOutcome('app_flow', failed(later(10)));
    s.recordOutcome('app_flow', failed(later(10)));
    expect(s.ready).toBe(false);
    s.recordOutcome('app_flow', failed(later(10)));
    expect(s.ready).toBe(true);
  });

  it('a source already failing when the old store died: its count from before does not make the first failed run count', () => {
    const { store: s, later } = storeAt(Date.parse(T0));
    // the supervisor's record: the database was down for 5 runs when the old store died
    s.expectSources(['app_flow', 'tasks'], undefined, GRACE_MS, {
      app_flow: { ok: false, last_success: T0, last_error: 'connection refused', consecutive_failures: 5, duration_ms: 3, last_attempt: T0, warning: null, counters: {} },
    });
    s.apply(pass('tasks', []));
    s.recordOutcome('app_flow', failed(later(10)));
    expect(s.ready).toBe(false);
    expect(s.freshness().app_flow).toMatchObject({ consecutive_failures: 6 });
    s.recordOutcome('app_flow', failed(later(10)));
    expect(s.ready).toBe(false);
    s.recordOutcome('app_flow', failed(later(10)));
    expect(s.ready).toBe(true);
  });

  it('counts a source that keeps failing once the grace is over', () => {
    const { store: s, later } = storeAt(Date.parse(T0));
    s.expectSources(['app_flow', 'tasks'], undefined, GRACE_MS);
    s.apply(pass('tasks', []));
    s.recordOutcome('app_flow', failed(later(GRACE_MS - 1)));
    expect(s.ready).toBe(false);
    s.commit();
    s.recordOutcome('app_flow', failed(later(1)));
    expect(s.ready).toBe(true);
    expect(s.commit()).not.toBeNull();
  });

  it('at the first start, counts any finished run, good or bad', () => {
    const { store: s } = storeAt(Date.parse(T0));
    s.expectSources(['app_flow', 'tasks']);
    s.apply(pass('tasks', []));
    s.recordOutcome('app_flow', failed(Date.parse(T0)));
    expect(s.ready).toBe(true);
  });
});
