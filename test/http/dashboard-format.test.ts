import { describe, expect, it } from 'vitest';

// the dashboards' own module: plain browser JS without types, importable here (it touches the DOM only when called)
const { byStr, fmtAge, fmtNum, fmtProgress, fmtTime } = await import('../../src/http/dashboard/format.js' as string) as {
  fmtProgress(p: unknown): string;
  fmtAge(iso: unknown, prefix?: string, suffix?: string): string;
  fmtNum(n: unknown): string;
  fmtTime(iso: unknown): string;
  byStr(a: string, b: string): number;
};

describe('dashboard time format', () => {
  it('is UTC and says so, whatever zone the browser is in (the stuck reasons the sidecar writes are UTC)', () => {
    expect(fmtTime('2026-12-01T10:02:03.456Z')).toBe('2026-12-01 10:02:03 UTC');
    expect(fmtTime('2026-12-01T23:30:00+02:00')).toBe('2026-12-01 21:30:00 UTC');
    expect(fmtTime('')).toBe('—');
  });

  it("Go's zero time (a Chart Repo time the payload left out) is no time, and has no age", () => {
    for (const zero of ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00+00:00']) {
      expect(fmtTime(zero)).toBe('—');
      expect(fmtAge(zero)).toBe('—');
      expect(fmtAge(zero, 'stuck ', '')).toBe('—');
    }
    // the instant just after is a time (however odd)
    expect(fmtTime('0001-01-01T00:00:01Z')).toBe('1-01-01 00:00:01 UTC');
  });
});

describe('dashboard number format', () => {
  it.each([
    0, 7, 999, 1000, 12_345, 1_000_000, 9_876_543_210, -1234, -0.5, 0.5, 1.5, 2.5, 1234.5678, 0.0004, 0.0005,
    -0.0004, 123_456.789, 99_999.9999, 2 ** 53, 1e20, 1.5e21, -3e25,
  ])('%s reads as en-US grouping would write it', (n) => {
    expect(fmtNum(n)).toBe(n.toLocaleString('en-US'));
  });

  it('a value that is not a finite number is a dash', () => {
    for (const v of [NaN, Infinity, -Infinity, '12', null, undefined, {}]) expect(fmtNum(v)).toBe('—');
  });

  it('orders keys by code unit, as sort() does', () => {
    const keys = ['tasks', 'app_flow', 'nats', 'chart_repo', 'components', 'Z', 'a'];
    expect([...keys].sort(byStr)).toEqual([...keys].sort());
  });
});

describe('a source\'s freshness on the pages', () => {
  it('is stale after 3 of its own intervals (a slow source is polled less often), else of the configured one', async () => {
    const { sourceState } = await import('../../src/http/dashboard/sources-banner.js' as string) as {
      sourceState(s: unknown, intervalMs: number): string;
    };
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    const ok = (lastMs: number, intervalMs?: number) => ({
      ok: true, last_success: ago(lastMs), last_attempt: ago(lastMs), ...(intervalMs ? { counters: { interval_ms: intervalMs } } : {}),
    });
    expect(sourceState(ok(20_000), 5_000)).toBe('stale');
    // the Chart Repo at 10,000 apps passes every 30 s: 20 s since its last success is no staleness
    expect(sourceState(ok(20_000, 30_000), 5_000)).toBe('ok');
    expect(sourceState(ok(100_000, 30_000), 5_000)).toBe('stale');
    expect(sourceState({ ...ok(1_000), counters: { interval_ms: 'soon' } }, 5_000)).toBe('ok');
    expect(sourceState({ ok: false, last_success: ago(1_000) }, 5_000)).toBe('failing');
    expect(sourceState(undefined, 5_000)).toBe('waiting');
  });
});

describe('dashboard progress format', () => {
  it('adds % to a number only: a progress the source gives as text reads as given', () => {
    expect(fmtProgress('12')).toBe('12 %');
    expect(fmtProgress(64.5)).toBe('64.5 %');
    expect(fmtProgress('layer 3/5')).toBe('layer 3/5');
    expect(fmtProgress(' ')).toBe(' ');
  });
});
