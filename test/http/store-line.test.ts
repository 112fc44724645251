import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreLine } from '../../src/http/store-line.ts';
import type { AsyncQueries } from '../../src/http/current-version.ts';
import { CALL_DEADLINE_MS } from '../../src/threads.ts';

/** A store whose answers the test releases (or never does: a hung store). */
function fakeStore() {
  const waiting: Array<() => void> = [];
  let pings = 0;
  const pending = <T>(value: T) => new Promise<T>((resolve) => waiting.push(() => resolve(value)));
  const remote = {
    overview: () => pending({ version: 1, content: 'c', json: '{}' }),
    ping: () => { pings++; return pending({ epoch: 'e', version: 1, ready: true }); },
  } as unknown as AsyncQueries;
  return { remote, answerAll: () => waiting.splice(0).forEach((r) => r()), pings: () => pings };
}

/** A line to a store with one query out for `waitMs`. */
async function lineWithQueryOut(waitMs: number) {
  const store = fakeStore();
  const line = new StoreLine();
  line.attach(store.remote);
  void line.queries()!.overview();
  await vi.advanceTimersByTimeAsync(waitMs);
  return { store, line };
}

describe('the HTTP thread\'s line to the store', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('a store that lets a call wait its whole deadline in silence gets no further queries (503 at once) until it answers again', async () => {
    const { store, line } = await lineWithQueryOut(CALL_DEADLINE_MS + 1);
    expect(line.silent).toBe(true);
    expect(line.queries()).toBeNull();
    expect(line.queries()).toBeNull();
    expect(store.pings()).toBe(1); // one probe while silent, not one per request
    expect(await line.alive()).toBe(false);
    store.answerAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(line.silent).toBe(false);
    expect(line.queries()).not.toBeNull();
  });

  it('a store that pushes while a call waits (busy with a large pass) is never taken for silent', async () => {
    const { line } = await lineWithQueryOut(CALL_DEADLINE_MS / 2);
    line.heardNow();
    await vi.advanceTimersByTimeAsync(CALL_DEADLINE_MS);
    expect(line.silent).toBe(false);
    expect(line.queries()).not.toBeNull();
  });

  it('a new store starts with a clean line; nothing the old one does afterwards counts', async () => {
    const { line } = await lineWithQueryOut(CALL_DEADLINE_MS + 1);
    expect(line.queries()).toBeNull();
    const next = fakeStore();
    line.attach(next.remote);
    expect(line.queries()).not.toBeNull();
    line.detach();
    expect(line.queries()).toBeNull();
    expect(line.silent).toBe(false);
  });
});
