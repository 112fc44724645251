/**
 * A good pass's warning names only causes (`some requests failed: HTTP 500`): which Chart Repo pairs failed moves
 * from pass to pass, and in the snapshot each move would mint a version. The log names them, so an operator who
 * reads the warning can find whose requests fail; the snapshot and …/sources never do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, spawnFakeSidecar } from '../helpers/sidecar.ts';

describe('a good pass\'s warning detail', () => {
  let sc: Awaited<ReturnType<typeof spawnFakeSidecar>>;
  beforeAll(async () => {
    sc = await spawnFakeSidecar([{ source: 'tasks', options: {
      mode: 'passes', count: 3, warning: 'some requests failed: HTTP 500', warningDetail: ['bob/market: HTTP 500', 'carol/local: HTTP 500'],
    } }], { LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    sc.child.kill('SIGTERM');
    await sc.exited;
  });

  it('is in the warning\'s log line, not in the snapshot or …/sources', async () => {
    const line = await eventually(async () => {
      const found = sc.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'collection warning');
      if (!found) throw new Error('no warning logged yet');
      return found;
    });
    expect(line).toMatchObject({ source: 'tasks', warning: 'some requests failed: HTTP 500', detail: ['bob/market: HTTP 500', 'carol/local: HTTP 500'] });
    const state = await (await fetch(`${sc.base}/api/v2/runtime/state`)).text();
    const sources = await (await fetch(`${sc.base}/api/v2/runtime/sources`)).text();
    expect(state).toContain('some requests failed: HTTP 500');
    for (const body of [state, sources]) expect(body).not.toContain('bob/market');
  });
});
