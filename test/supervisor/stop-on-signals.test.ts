import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { SAME_SIGNAL_MS, stopOnSignals, type Sidecar } from '../../src/main.ts';

/**
 * Ctrl-C on `npm start` sends SIGINT to npm and node (one process group), and npm forwards it to node again:
 * node sees the one request twice, at once. That must stay a graceful stop, not the "second signal" exit 1.
 */
describe('stopOnSignals', () => {
  const exits: number[] = [];
  let stops = 0;
  let before: { SIGINT: Function[]; SIGTERM: Function[] };

  beforeEach(() => {
    vi.useFakeTimers();
    exits.length = 0;
    stops = 0;
    before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    // process.exit throws here (as it ends the process there): the handler goes no further than it would
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      exits.push(code ?? 0);
      throw new Error(`exit ${code}`);
    }) as typeof process.exit);
    // a stop that takes its time (a loaded machine): the signals below arrive while it runs
    const sidecar = { stop: () => { stops += 1; return new Promise<void>(() => {}); } } as unknown as Sidecar;
    stopOnSignals(sidecar, createLogger('silent'), 8000);
  });

  afterEach(() => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l as () => void);
    }
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('the same signal twice at once (the terminal\'s and npm\'s copy of one Ctrl-C) is one graceful stop', () => {
    process.emit('SIGINT');
    process.emit('SIGINT');
    vi.advanceTimersByTime(SAME_SIGNAL_MS - 100);
    process.emit('SIGINT');
    expect(exits).toEqual([]);
    expect(stops).toBe(1);
  });

  it('the same signal again later (an operator who does not want to wait) exits 1 at once', () => {
    process.emit('SIGINT');
    process.emit('SIGINT');
    vi.advanceTimersByTime(SAME_SIGNAL_MS + 100);
    expect(() => process.emit('SIGINT')).toThrow('exit 1');
    expect(exits).toEqual([1]);
    expect(stops).toBe(1);
  });

  it('another signal while stopping exits 1 at once', () => {
    process.emit('SIGTERM');
    expect(() => process.emit('SIGINT')).toThrow('exit 1');
    expect(exits).toEqual([1]);
  });

  it('a stop past the budget still exits 1', () => {
    process.emit('SIGTERM');
    process.emit('SIGTERM');
    expect(() => vi.advanceTimersByTime(8000 + 1500)).toThrow('exit 1');
    expect(exits).toEqual([1]);
  });
});
