/**
 * A Chart Repo answer that says what it said before needs no parse (issue 20: cost follows change): its text
 * less the members that only tell time passing is the key. Equal keys must mean equal content.
 */
import { describe, expect, it } from 'vitest';
import { bodyContentKey, uptimeIn } from '../../src/collect/chart-repo-content.ts';

const body = (over: { uptime?: unknown; state?: string; duration?: unknown; check?: unknown; note?: string } = {}) => JSON.stringify({
  success: true, message: 'ok', data: {
    system: { hostname: 'repo-1', uptime: over.uptime ?? 100 },
    apps: [{ app_name: 'wiki', state: over.state ?? 'processing', note: over.note ?? '', processing: { task_id: 'h1', duration: over.duration ?? 5e9 } }],
    tasks: { image_analyzer: { is_running: true, last_check: over.check ?? '2026-12-01T10:00:00Z', queue_length: 0 } },
  },
});

describe('bodyContentKey', () => {
  it.each([
    ['the uptime', { uptime: 101 }],
    ['a running item\'s duration (number or Go string)', { duration: '7.5s' }],
    ['the image analyzer\'s last_check', { check: '2026-12-01T10:00:05Z' }],
  ])('is the same when only %s moved', (_what, over) => {
    expect(bodyContentKey(body(over))).toBe(bodyContentKey(body()));
  });

  it.each([
    ['an item\'s state', { state: 'completed' }],
    ['a string that merely contains a time-passing member', { note: ',"uptime":1' }],
    ['the same string with other text in it', { note: '{"duration":2}' }],
  ])('differs when %s differs', (_what, over) => {
    expect(bodyContentKey(body(over))).not.toBe(bodyContentKey(body()));
  });

  it('leaves a string value alone even when it spells a member', () => {
    const a = body({ note: ',"uptime":1}' });
    const b = body({ note: ',"uptime":2}' });
    expect(bodyContentKey(a)).not.toBe(bodyContentKey(b));
  });

  it('reads the uptime for the freshness counter', () => {
    expect(uptimeIn(body({ uptime: 4321 }))).toBe(4321);
    expect(uptimeIn('{"success":true,"data":{}}')).toBeUndefined();
  });
});
