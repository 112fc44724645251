/**
 * A collector thread whose store died holds a closed port: its next run asks for a new one (`need_init`) instead of
 * collecting into nothing, so a store that replaces the dead one always gets this source's pass (and becomes
 * ready), whatever the order in which the supervisor heard of the death and handed ports out.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime } from '../../src/collect/runtime.ts';
import type { CollectorSpec, PassMessage } from '../../src/protocol.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';

const spec: CollectorSpec = {
  source: 'tasks', module: new URL('../fixtures/fake-collector.ts', import.meta.url).href, options: { mode: 'passes', count: 2 },
};

/** A store's end of a delta port: acknowledges every pass, and counts them. */
function fakeStore() {
  const { port1, port2 } = new MessageChannel();
  const passes: PassMessage[] = [];
  port1.on('message', (m: PassMessage) => {
    passes.push(m);
    port1.postMessage({ type: 'applied', seq: m.seq });
  });
  return { port: port2 as MessagePort, passes, die: () => port1.close() };
}

describe('a collector runtime whose store died', () => {
  const ports: { die(): void }[] = [];
  afterEach(() => { for (const p of ports.splice(0)) p.die(); });

  it('asks for a new store port at its next run, and feeds the new store once it has one', async () => {
    const runtime = new CollectorRuntime();
    const first = fakeStore();
    ports.push(first);
    expect(await runtime.handle({ kind: 'init', spec, port: first.port })).toEqual({ kind: 'ready' });
    expect(await runtime.handle({ kind: 'run', deadline_ms: LIVENESS_MS })).toMatchObject({ kind: 'done', outcome: { ok: true } });
    expect(first.passes).toHaveLength(1);

    // (the close reaches the collector's end of the channel asynchronously)
    const closed = new Promise((r) => first.port.once('close', r));
    first.die();
    await closed;
    expect(await runtime.handle({ kind: 'run', deadline_ms: LIVENESS_MS })).toEqual({ kind: 'need_init' });

    const second = fakeStore();
    ports.push(second);
    expect(await runtime.handle({ kind: 'init', spec, port: second.port })).toEqual({ kind: 'ready' });
    expect(await runtime.handle({ kind: 'run', deadline_ms: LIVENESS_MS })).toMatchObject({ kind: 'done', outcome: { ok: true } });
    expect(second.passes).toHaveLength(1);
  });
});
