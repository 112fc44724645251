import { describe, expect, it } from 'vitest';
import { FailureLogLimiter, WarningLog } from '../../src/supervisor/log-limiter.ts';

describe('failure log limiter', () => {
  it('logs the first failure, then at most once a minute while it repeats, then recovered', () => {
    let now = 0;
    const l = new FailureLogLimiter('tasks', { now: () => now });
    expect(l.success()).toBeNull();
    const first = l.failure('connect ECONNREFUSED 127.0.0.1:5432 after 0 ms');
    expect(first).toMatchObject({ msg: 'collection failed', fields: { source: 'tasks', reason: 'connect ECONNREFUSED 127.0.0.1:5432 after 0 ms' } });
    let logged = 0;
    for (let i = 1; i <= 100; i += 1) {
      now = i * 5000; // a pass every 5 s for 500 s, same error (numbers vary)
      if (l.failure(`connect ECONNREFUSED 127.0.0.1:5432 after ${i} ms`)) logged += 1;
    }
    expect(logged).toBe(Math.floor(500 / 60)); // one "still failing" line a minute
    now += 1000;
    const changed = l.failure('password authentication failed for user "market"');
    expect(changed?.msg).toBe('collection failed with a new error');
    now += 1000;
    const up = l.success();
    expect(up).toMatchObject({ level: 'info', msg: 'collection recovered', fields: { source: 'tasks', failures: 102 } });
    expect(l.success()).toBeNull();
    expect(l.failure('again')?.msg).toBe('collection failed');
  });

  it('a "still failing" line says how many were suppressed', () => {
    let now = 0;
    const l = new FailureLogLimiter('chart_repo', { now: () => now, repeatEveryMs: 10_000 });
    l.failure('timeout');
    for (let i = 1; i <= 4; i += 1) { now = i * 2000; l.failure('timeout'); }
    now = 10_000;
    expect(l.failure('timeout')).toMatchObject({ msg: 'collection still failing', fields: { suppressed: 4, consecutive_failures: 6 } });
  });
});

describe('warning log', () => {
  it('logs a good pass\'s warning when it appears or changes, once a minute while it stays, and when it clears', () => {
    let now = 0;
    const w = new WarningLog('tasks', () => now);
    expect(w.seen(null)).toBeNull();
    expect(w.seen('3 task_records rows did not fit')).toEqual({
      level: 'warn', msg: 'collection warning', fields: { source: 'tasks', warning: '3 task_records rows did not fit' },
    });
    now += 5_000;
    // the same warning with other numbers is the same warning
    expect(w.seen('4 task_records rows did not fit')).toBeNull();
    now += 60_000;
    expect(w.seen('4 task_records rows did not fit')).toMatchObject({ level: 'warn', msg: 'collection warning persists' });
    now += 1_000;
    expect(w.seen('unknown app state "frozen" shown as stage unknown')).toMatchObject({ msg: 'collection warning' });
    expect(w.seen(null)).toEqual({ level: 'info', msg: 'collection warning cleared', fields: { source: 'tasks' } });
    expect(w.seen(null)).toBeNull();
  });
});
