/**
 * A store restart alone changes nothing a reader sees: the new store is given the dead one's stuck clocks (the
 * stage_since it kept through later events, its stall clocks), so an app stuck before is stuck after, for the
 * same reason and since the same time, and /state keeps its ETag. Without them the new store would start the
 * app's clock again from the row's latest event: not stuck, another stage_since, another ETag.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppFlowState } from '../../src/model/index.ts';
import { eventually, fake, restartStore, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { app } from '../helpers/store-fixtures.ts';
import { API, sleep, state } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'mr-clocks-'));
const file = join(dir, 'apps.json');
/** the fake collector writes each run's number here as it hands its steps over */
const done = join(dir, 'done');
const runs = (): number => Number(existsSync(done) ? readFileSync(done, 'utf8') : 0);
const MIN = 60_000;
const KEY = 'alice:market:wiki';

/** The market's row of wiki: installing since an event `stageSinceAgo` ms ago, written `writtenAgo` ms ago. */
function writeRow(stageSinceAgo: number, writtenAgo: number): void {
  const at = (ago: number) => new Date(Date.now() - ago).toISOString();
  const wiki = app('alice', 'market', 'wiki', { stage: 'installing', health: 'unknown', stage_since: at(stageSinceAgo), last_update: at(writtenAgo) });
  writeFileSync(file, JSON.stringify([{ op: 'replace', domain: 'app_states', items: [wiki] }]));
}

describe('a store restart keeps what the dead store knew of stuck apps', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    // installing for an hour: past the 30 m limit
    writeRow(60 * MIN, 60 * MIN);
    sc = await startInProcess([fake('app_flow', { mode: 'file', file, doneFile: done })], { intervalMs: 200 });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('the same stage_since, stuck verdict and ETag after the store thread died', async () => {
    const first = (await state(sc.base)).app_states[KEY] as AppFlowState;
    expect(first).toMatchObject({ stuck: true });
    // a later event inside the stage: the row's own stage_since is a minute ago now, the store keeps the hour
    writeRow(MIN, 0);
    // (a run that read the file before it was written may be on its way: two more)
    const run = runs();
    await eventually(async () => expect(runs()).toBeGreaterThanOrEqual(run + 2));
    // the supervisor took the clock (it takes what changed every second)
    await eventually(async () => expect(sc.sup.stuckClocksKept).toBe(1));
    await sleep(1500);
    const before = await fetch(`${sc.base}${API}/state`);
    const etag = before.headers.get('etag');
    const wiki = ((await before.json()) as { data: { app_states: Record<string, AppFlowState> } }).data.app_states[KEY]!;
    expect(wiki).toMatchObject({ stage_since: first.stage_since, stuck: true, stuck_reason: first.stuck_reason });

    await restartStore(sc);
    const after = await fetch(`${sc.base}${API}/state`);
    const rebuilt = ((await after.json()) as { data: { app_states: Record<string, AppFlowState> } }).data.app_states[KEY]!;
    expect(rebuilt).toMatchObject({ stage_since: wiki.stage_since, stuck: true, stuck_reason: wiki.stuck_reason, stuck_since: wiki.stuck_since });
    expect(after.headers.get('etag')).toBe(etag);
  });
});
