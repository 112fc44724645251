/**
 * The supervisor's keeping of what the store held of a source that is down (held-while-down.ts), with a stand-in
 * store: taken at a failed run when what the store holds of it changed, dropped at the source's next good run, given to a store that replaces a dead one,
 * and dropped when a store given it dies before it is ready.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { PassOutcome, SourceName } from '../../src/protocol.ts';
import { HeldWhileDown } from '../../src/supervisor/held-while-down.ts';
import { outcome } from '../helpers/store-fixtures.ts';

const failed: PassOutcome = outcome({ ok: false, error: 'connect ECONNREFUSED' });

/**
 * A store thread as far as HeldWhileDown sees it: it answers heldOf with its bytes (null when unchanged since the
 * mark given: `mark` moves when what it holds changes) and records what it is given.
 */
function storeThread(initial: number[] | null = [1, 2, 3]) {
  const worker = Object.assign(new EventEmitter(), { threadId: 1 }) as unknown as Worker & EventEmitter;
  const asked: SourceName[] = [];
  const given: Array<[SourceName, number[]]> = [];
  const held = { bytes: initial, mark: 7 };
  const store = {
    heldOf: async (source: SourceName, unless?: number) => {
      asked.push(source);
      if (unless === held.mark) return null;
      return { mark: held.mark, bytes: held.bytes === null ? null : new Uint8Array(held.bytes).buffer };
    },
    restoreHeld: async (source: SourceName, bytes: ArrayBuffer) => { given.push([source, [...new Uint8Array(bytes)]]); return true; },
  };
  const exit = () => { (worker as { threadId: number }).threadId = -1; worker.emit('exit', 1); };
  /** what it holds changes (a pushed app event) */
  const change = (bytes: number[] | null) => { held.bytes = bytes; held.mark += 1; };
  return { worker, store: store as never, asked, given, exit, change, current: () => ({ worker, store: store as never }) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** What the supervisor keeps, its log silent. */
const keeper = () => new HeldWhileDown(createLogger('silent'));

/** A store that replaces a dead one, given what is kept (what it was given is in its `given`). */
async function replacement(keep: HeldWhileDown) {
  const next = storeThread();
  await keep.restoreInto(next.worker, next.store, 1000);
  return next;
}

/** `source` failed once against `store` (by default one that holds it), its question answered. */
async function failedOnce(keep: HeldWhileDown, source: SourceName, store = storeThread()): Promise<void> {
  keep.outcome(source, failed, store.current);
  await settle();
}

describe('what the store held of a source that is down', () => {
  it('is taken at the first failed run, again only when what the store holds changed, and given to the store that replaces a dead one', async () => {
    const keep = keeper();
    const old = storeThread();
    keep.outcome('app_flow', failed, old.current);
    // (one question at a time)
    await failedOnce(keep, 'app_flow', old);
    await failedOnce(keep, 'app_flow', old);
    expect(old.asked).toEqual(['app_flow', 'app_flow']);
    expect((await replacement(keep)).given).toEqual([['app_flow', [1, 2, 3]]]);
    // an app event pushed during the outage
    old.change([1, 2, 3, 4]);
    await failedOnce(keep, 'app_flow', old);
    expect((await replacement(keep)).given).toEqual([['app_flow', [1, 2, 3, 4]]]);
    // pushed removals left the store nothing of the source: nor does the copy hold anything
    old.change(null);
    await failedOnce(keep, 'app_flow', old);
    expect((await replacement(keep)).given).toEqual([]);
  });

  it('a store given the copy is asked for its own at the next failed run (its marks are its own)', async () => {
    const keep = keeper();
    await failedOnce(keep, 'tasks');
    const next = await replacement(keep);
    next.change([9]);
    await failedOnce(keep, 'tasks', next);
    expect((await replacement(keep)).given).toEqual([['tasks', [9]]]);
  });

  it("is dropped at the source's next good run", async () => {
    const keep = keeper();
    await failedOnce(keep, 'tasks');
    // (taken: a keeper that took nothing would pass what follows)
    expect((await replacement(keep)).given).toEqual([['tasks', [1, 2, 3]]]);
    keep.outcome('tasks', outcome(), storeThread().current);
    expect((await replacement(keep)).given).toEqual([]);
  });

  it('is not taken while no store is up, nor kept when the store holds nothing of the source', async () => {
    const keep = keeper();
    keep.outcome('app_flow', failed, () => null);
    const empty = storeThread(null);
    await failedOnce(keep, 'tasks', empty);
    expect((await replacement(keep)).given).toEqual([]);
  });

  it('is dropped when a store given it dies before it is ready, whatever ended it: it may be what kills it', async () => {
    const keep = keeper();
    await failedOnce(keep, 'chart_repo');
    const next = await replacement(keep);
    expect(next.given).toHaveLength(1);
    next.exit();
    keep.storeExited(next.worker, 'no answer to the supervisor\'s pings for 30 s');
    expect((await replacement(keep)).given).toEqual([]);
  });

  it('a store that became ready proved what it was given: its later crash drops nothing', async () => {
    const keep = keeper();
    await failedOnce(keep, 'app_flow');
    const next = await replacement(keep);
    keep.storeReady(next.worker);
    next.exit();
    keep.storeExited(next.worker, 'exited with code 1');
    expect((await replacement(keep)).given).toHaveLength(1);
  });
});
