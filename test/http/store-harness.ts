/**
 * The HTTP thread's real code (HttpThread: Hono routes, response cache, raw path, remembered answers) on a
 * loopback port, wired to a real StoreActor over MessageChannels and comlink exactly as the supervisor wires
 * the two threads, but in this thread: a test can ask the store itself for a fresh answer, feed it passes
 * and replace it (a store restart) at a moment of its choosing.
 */
import { request, Agent } from 'node:http';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { HttpThread } from '../../src/http/thread.ts';
import type { AppFlowState, SourceName, TaskState } from '../../src/model/index.ts';
import type { StoreStep } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';

export const T0 = '2026-11-25T10:00:00.000Z';

export function app(user_id: string, source_id: string, app_name: string, extra: Partial<AppFlowState> = {}): AppFlowState {
  return { app_id: `${app_name}-id`, app_name, user_id, source_id, stage: 'running', health: 'healthy', last_update: T0, ...extra };
}

export function task(task_id: string, app_name: string, user_id: string | undefined, extra: Partial<TaskState> = {}): TaskState {
  return { task_id, type: 'install', status: 'completed', app_name, ...(user_id === undefined ? {} : { user_id }), created_at: T0, ...extra };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function startHarness(sources: SourceName[]) {
  const http = new HttpThread();
  const ports: MessagePort[] = [];
  const newStore = () => {
    const actor = new StoreActor({ minCommitIntervalMs: 0 });
    actor.expectSources(sources);
    const query = new MessageChannel();
    const version = new MessageChannel();
    ports.push(query.port1, query.port2, version.port1, version.port2);
    actor.attachQueryPort(query.port1);
    actor.attachVersionPort(version.port1);
    http.attachStore(query.port2, version.port2);
    return actor;
  };
  let store = newStore();
  // version messages the HTTP thread has received (served or not), so a test can wait for one
  let versionsSeen = 0;
  const internals = http as unknown as { onVersion(m: unknown): void };
  const onVersion = internals.onVersion;
  internals.onVersion = function (m) { versionsSeen += 1; onVersion.call(this, m); };
  const { port } = await http.listen({ port: 0, host: '127.0.0.1' });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let seq = 0;

  /** One request with the target sent as given (no client-side normalization of the path or query). */
  const send = (target: string, method = 'GET', headers: Record<string, string> = {}) => new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method, headers, agent, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${target}`)));
    req.on('error', reject);
    req.end();
  });

  /** Waits until the HTTP thread holds the store's latest version (a version travels on its own port). */
  const settled = async (expectReady?: boolean) => {
    store.flush();
    const end = Date.now() + 10_000;
    for (;;) {
      const r = await send('/readyz');
      const seen = JSON.parse(r.body) as { version: number; ready: boolean };
      if (seen.version === store.store.version && (expectReady === undefined || seen.ready === expectReady)) return;
      if (Date.now() > end) throw new Error(`HTTP thread at version ${seen.version}, store at ${store.store.version}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  /** Commits the store now and waits until the HTTP thread received that version (whether it serves it or not). */
  const delivered = async () => {
    const before = versionsSeen;
    store.flush();
    const end = Date.now() + 10_000;
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
      store.receive({
        type: 'pass', seq, source, steps,
        outcome: { ok: true, error: null, duration_ms: 1, finished_at: new Date().toISOString() },
      });
    },
    /** a store restart as the supervisor does it: a new store, attached to the running HTTP thread */
    restartStore() {
      store = newStore();
      return store;
    },
    async close() {
      agent.destroy();
      await http.close(1000);
      for (const p of ports) p.close();
    },
  };
}
