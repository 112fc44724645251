import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectorModule } from '../../src/supervisor/collectors.ts';
import { freePort, TestNatsServer } from '../helpers/nats.ts';
import { describeWith } from '../helpers/services.ts';
import { eventually, fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { expectGoWire, expectGoWireEvents } from '../helpers/go-wire.ts';
import { openStream } from '../helpers/sse.ts';

const dir = mkdtempSync(join(tmpdir(), 'mr-nats-'));
const file = join(dir, 'steps.json');

function appServiceEvent(over: Record<string, unknown>) {
  return {
    eventID: `e-${Math.random()}`, createTime: new Date().toISOString(), name: 'firefox', rawAppName: 'firefox',
    title: 'Firefox', opID: 'op1', opType: 'install', state: 'running', user: 'alice', progress: '100',
    marketSource: 'market.olares', reason: '', message: '',
    entranceStatuses: [{ name: 'web', state: 'running', statusTime: new Date().toISOString(), reason: '' }], sharedEntrances: [],
    ...over,
  };
}

describeWith('nats-server', 'app-service events from a real NATS server', () => {
  let nats: TestNatsServer;
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  let pub: NatsConnection;
  const publish = (subject: string, payload: unknown) =>
    pub.publish(subject, typeof payload === 'string' ? payload : JSON.stringify(payload));
  const state = async () => (await (await sc.get('/api/v2/runtime/state')).json()).data;
  /** health and freshness (counters live here, not in the versioned snapshot) */
  const sources = async () => (await (await sc.get('/api/v2/runtime/sources')).json()).data.sources;

  beforeAll(async () => {
    nats = new TestNatsServer(await freePort());
    await nats.start();
    // the poll knows one app with its version; events fill in between polls. metadata.status as the polling
    // collector builds it (the market's shape: the keys Go always sends)
    const polled = (name: string, user: string, at: string, extra: object = {}) => ({
      name, rawAppName: name, isSysApp: false, owner: user, source: 'market.olares', title: name, state: 'running',
      updateTime: at.replace('.000Z', 'Z'), statusTime: at.replace('.000Z', 'Z'), lastTransitionTime: at.replace('.000Z', 'Z'),
      entranceStatuses: null, createTime: at, ...extra,
    });
    writeFileSync(file, JSON.stringify([{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [{
      app_id: 'gitea', app_name: 'gitea', user_id: 'alice', source_id: 'market.olares', stage: 'running', health: 'healthy',
      version: '1.21.0', last_update: '2026-11-25T10:00:00.000Z',
      metadata: { status: polled('gitea', 'alice', '2026-11-25T10:00:00.000Z', { appid: 'gitea-id', icon: 'https://x/gitea.png' }) },
    }, {
      app_id: 'firefox', app_name: 'firefox', user_id: 'carol', source_id: 'market.olares', stage: 'running', health: 'healthy',
      last_update: '2026-11-25T12:00:00.000Z', metadata: { status: polled('firefox', 'carol', '2026-11-25T12:00:00.000Z') },
    }] }]));
    sc = await startInProcess([
      fake('app_flow', { mode: 'file', file }),
      { source: 'nats', module: collectorModule('nats'), options: { natsUrl: nats.url, natsSubject: 'os.application.*' } },
    ], { intervalMs: 300 });
    pub = await connect({ servers: nats.url });
    await eventually(async () => expect((await state()).sources.nats?.ok).toBe(true));
  });
  afterAll(async () => {
    await pub?.close();
    await sc?.sup.stop();
    await nats?.stop();
  });

  it('shows a published state change in /state and on the change stream, keeping what the poll knew', async () => {
    const stream = await openStream(`${sc.base}/api/v2/runtime/events?user_id=alice`);
    await stream.next((e) => e.event === 'snapshot');
    publish('os.application.alice', appServiceEvent({ name: 'gitea', rawAppName: 'gitea', state: 'stopped', createTime: '2026-11-25T10:05:00.000Z' }));
    await eventually(async () => {
      const app = (await state()).app_states['alice:market.olares:gitea'];
      expect(app).toMatchObject({
        stage: 'stopped', health: 'unhealthy', version: '1.21.0', app_id: 'gitea',
        metadata: { status: { state: 'stopped', appid: 'gitea-id', icon: 'https://x/gitea.png', updateTime: '2026-11-25T10:05:00Z' } },
      });
    });
    const change = await stream.next((e) => e.event === 'change' && e.data.includes('alice:market.olares:gitea'));
    expect(JSON.parse(change.data).upserts.app_states['alice:market.olares:gitea'].stage).toBe('stopped');
    // metadata.status updated from the event decodes as the market's struct, in the snapshot and the change
    expectGoWireEvents(stream.events);
    await stream.close();
  });

  it('a new app from an event appears with the stage table of the polling collector', async () => {
    publish('os.application.bob', appServiceEvent({ user: 'bob', name: 'vault', state: 'downloading', progress: '30' }));
    await eventually(async () => {
      expect((await state()).app_states['bob:market.olares:vault']).toMatchObject({ stage: 'fetching' });
    });
    // an app known only from its event still has metadata.status in the market's shape
    expectGoWire(await state());
  });

  it('ignores an event older than the one held', async () => {
    // the poll holds carol's firefox as running since 12:00; an 11:00 event arrives late
    const before = (await sources()).nats.counters.stale_events ?? 0;
    publish('os.application.carol', appServiceEvent({ user: 'carol', state: 'installing', createTime: '2026-11-25T11:00:00.000Z' }));
    await eventually(async () => expect((await sources()).nats.counters.stale_events).toBe(before + 1));
    expect((await state()).app_states['carol:market.olares:firefox'].stage).toBe('running');
  });

  it('drops and counts garbage messages', async () => {
    const before = (await sources()).nats.counters.dropped ?? 0;
    publish('os.application.x', 'not json at all');
    publish('os.application.x', { hello: 'world' });
    publish('os.application.x', appServiceEvent({ user: 'x'.repeat(5000) }));
    publish('os.application.x', appServiceEvent({ createTime: 'yesterday' }));
    await eventually(async () => expect((await sources()).nats.counters.dropped).toBe(before + 4));
    expect((await state()).sources.nats.warning).toMatch(/dropped/);
  });

  it('clears the dropped-message warning once good messages flow again (a quiet subject keeps it)', async () => {
    publish('os.application.x', 'not json at all');
    await eventually(async () => expect((await state()).sources.nats.warning).toMatch(/dropped/));
    // runs go by with no message at all: nothing says the publisher was fixed, the warning stays
    const runs = (await sources()).nats.last_attempt;
    await eventually(async () => expect((await sources()).nats.last_attempt).not.toBe(runs));
    expect((await state()).sources.nats.warning).toMatch(/dropped/);
    publish('os.application.x', appServiceEvent({ name: 'clearing', rawAppName: 'clearing', state: 'running' }));
    await eventually(async () => {
      const nats = (await state()).sources.nats;
      expect(nats.ok).toBe(true);
      expect(nats.warning ?? null).toBeNull();
    });
  });

  it('recovers by itself when the NATS server restarts', async () => {
    await nats.stop();
    await eventually(async () => expect((await state()).sources.nats.ok).toBe(false));
    await nats.start();
    await eventually(async () => expect((await state()).sources.nats.ok).toBe(true));
    await pub.close();
    pub = await connect({ servers: nats.url });
    publish('os.application.dave', appServiceEvent({ user: 'dave', state: 'running' }));
    await eventually(async () => expect((await state()).app_states['dave:market.olares:firefox']).toBeDefined());
  }, 4 * LIVENESS_MS);
});

describeWith('nats-server', 'events between polls', () => {
  it('applies events while the collector thread is idle between runs (a poll an hour away)', async () => {
    const nats = new TestNatsServer(await freePort());
    await nats.start();
    const sc = await startInProcess([
      { source: 'nats', module: collectorModule('nats'), options: { natsUrl: nats.url, natsSubject: 'os.application.*' } },
    ], { intervalMs: 3_600_000 });
    const pub = await connect({ servers: nats.url });
    try {
      await untilReady(sc.base);
      for (const name of ['idle-1', 'idle-2']) {
        // published again until seen: ready says the collector ran once, not that its subscription already
        // reached the server (core NATS keeps nothing for late subscribers); only events can show the app here
        await eventually(async () => {
          pub.publish('os.application.erin', JSON.stringify(appServiceEvent({ user: 'erin', name, state: 'running' })));
          await new Promise((r) => setTimeout(r, 500));
          const data = (await (await sc.get('/api/v2/runtime/state')).json()).data;
          expect(data.app_states[`erin:market.olares:${name}`]).toBeDefined();
        });
      }
    } finally {
      await pub.close();
      await sc.sup.stop();
      await nats.stop();
    }
  });
});

describeWith('nats', 'the machine NATS service (CI)', () => {
  it('is reachable', async () => {
    const nc = await connect({ servers: process.env.MARKET_NATS_URL!, timeout: 3000 });
    await nc.flush();
    await nc.close();
  });
});
