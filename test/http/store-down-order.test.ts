/**
 * The supervisor tells the HTTP thread of a store's death on the link port and hands it the next store over
 * another: the two are not ordered. A late word of the death of a store older than the one attached must not
 * detach the new one (it would answer 503 with no store to wait for); the attached store's death does.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupervisorLinkMessage } from '../../src/protocol.ts';
import { eventually } from '../helpers/sidecar.ts';
import { app, startHarness } from './store-harness.ts';

describe('word of a store\'s death', () => {
  const link = new MessageChannel();
  let h: Awaited<ReturnType<typeof startHarness>>;
  const tell = (m: SupervisorLinkMessage) => link.port1.postMessage(m);
  /** a message after the ones before it (one port keeps their order): once its count shows, they were handled */
  const handled = async (n: number) => {
    tell({ type: 'thread_restarts', counts: { store: n, http: 0, compress: 0 }, last: {} });
    await eventually(async () => expect((await h.send('/metrics')).body).toContain(`market_runtime_thread_restarts_total{thread="store"} ${n}`));
  };
  beforeAll(async () => {
    h = await startHarness(['app_flow'], {}, { link: link.port2 });
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.settled(true);
  });
  afterAll(async () => {
    await h?.close();
    link.port1.close();
  });

  it('of an older store is ignored; of the attached one (store 1) detaches it', async () => {
    tell({ type: 'store_down', store: 0 });
    await handled(1);
    expect((await h.send('/readyz')).status).toBe(200);
    expect((await h.send('/api/v2/runtime/state?user_id=alice')).status).toBe(200);

    tell({ type: 'store_down', store: 1 });
    await handled(2);
    expect((await h.send('/readyz')).status).toBe(503);
    expect((await h.send('/api/v2/runtime/state?user_id=alice')).status).toBe(503);
  });
});
