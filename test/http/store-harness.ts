/**
 * The HTTP thread's real code (HttpThread: Hono routes, response cache, raw path, remembered answers) on a
 * loopback port, wired to a real StoreActor over MessageChannels and comlink exactly as the supervisor wires
 * the two threads, but in this thread: a test can ask the store itself for a fresh answer, feed it passes
 * and replace it (a store restart) at a moment of its choosing.
 */
import { Agent } from 'node:http';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { HttpThread, type ListenOptions } from '../../src/http/thread.ts';
import type { SourceName } from '../../src/model/index.ts';
import type { StoreStep } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.ts';

import { pass as passMessage } from '../helpers/store-fixtures.ts';

export { app, task } from '../helpers/store-fixtures.ts';

export type Answer = RawAnswer;

type Send = (target: string, method?: string, headers?: Record<string, string | string[]>) => Promise<Answer>;

/** `listen`: the HTTP thread's options beyond port and host (a token, the raw path off). */
export async function startHarness(sources: SourceName[], listen: Omit<ListenOptions, 'port' | 'host'> = {}, opts: { link?: MessagePort } = {}) {
  // `link`: the supervisor's link port (SupervisorLinkMessage), for a test that speaks for the supervisor
  const http = new HttpThread(opts.link ?? null);
  const ports: MessagePort[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  // every HTTP thread on the store (a twin shares it), each with its client
  const servers: Array<{ http: HttpThread; send: Send }> = [];
  /** whether the store is a restarted one (the supervisor tells both threads so) */
  let rebuilt = false;
  /** the store's number, as the supervisor numbers store threads */
  let storeNumber = 0;
  const connect = (actor: StoreActor, thread: HttpThread) => {
    const query = new MessageChannel();
    const version = new MessageChannel();
    ports.push(query.port1, query.port2, version.port1, version.port2);
    actor.attachQueryPort(query.port1);
    actor.attachVersionPort(version.port1);
    thread.attachStore(query.port2, version.port2, rebuilt, storeNumber);
  };
  const newStore = () => {
    storeNumber += 1;
    const actor = new StoreActor({ minCommitIntervalMs: 0 });
    // a restarted store: only good passes make it ready (a failed one counts after an hour: never in a test)
    actor.expectSources(sources, undefined, rebuilt ? 3_600_000 : undefined);
    connect(actor, http);
    for (const s of servers) if (s.http !== http) connect(actor, s.http);
    return actor;
  };
  let store = newStore();
  // version messages the HTTP thread has received (served or not), so a test can wait for one
  let versionsSeen = 0;
  const internals = http as unknown as { onVersion(m: unknown): void };
  const onVersion = internals.onVersion;
  internals.onVersion = function (m) { versionsSeen += 1; onVersion.call(this, m); };
  let seq = 0;

  /** One request with the target sent as given (no client-side normalization of the path or query). */
  const sender = (port: number): Send => (target, method = 'GET', headers = {}) =>
    rawRequest(`http://127.0.0.1:${port}`, target, { method, headers, agent });
  const serve = async (thread: HttpThread, opts: Omit<ListenOptions, 'port' | 'host'>) => {
    const { port } = await thread.listen({ ...opts, port: 0, host: '127.0.0.1' });
    const server = { http: thread, port, send: sender(port) };
    servers.push(server);
    return server;
  };
  const { port, send } = await serve(http, listen);

  /** Waits until every HTTP thread holds the store's latest version (a version travels on its own port). */
  const settled = async (expectReady?: boolean) => {
    store.flush();
    const end = Date.now() + LIVENESS_MS;
    for (const s of servers) {
      for (;;) {
        const r = await s.send('/readyz');
        const seen = JSON.parse(r.body) as { version: number; ready: boolean };
        if (seen.version === store.store.version && (expectReady === undefined || seen.ready === expectReady)) break;
        if (Date.now() > end) throw new Error(`HTTP thread at version ${seen.version}, store at ${store.store.version}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };

  /** Commits the store now and waits until the HTTP thread received that version (whether it serves it or not). */
  const delivered = async () => {
    const before = versionsSeen;
    store.flush();
    const end = Date.now() + LIVENESS_MS;
    while (versionsSeen === before) {
      if (Date.now() > end) throw new Error('no version reached the HTTP thread');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  return {
    port, http, send, settled, delivered,
    get store() { return store; },
    /** one collection pass of `source` (applied at once, committed at the store's next flush) */
    pass(source: SourceName, steps: StoreStep[]) {
      seq += 1;
      store.receive(passMessage(source, steps, { finished_at: new Date().toISOString() }, seq));
    },
    /**
     * Another HTTP thread on the same store (same versions, same tags), listening with its own options: the
     * same requests answered under another configuration (e.g. the raw path off).
     */
    async twin(opts: Omit<ListenOptions, 'port' | 'host'>) {
      const thread = new HttpThread();
      connect(store, thread);
      return serve(thread, opts);
    },
    /** a store restart as the supervisor does it: a new store, attached to the running HTTP threads */
    restartStore() {
      rebuilt = true;
      store = newStore();
      return store;
    },
    async close() {
      agent.destroy();
      for (const s of servers) await s.http.close(1000);
      for (const p of ports) p.close();
    },
  };
}
