import { Agent, get as httpGet } from 'node:http';
import { expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { parseProm, value } from '../helpers/prom.ts';
import { spawnFakeSidecar, untilReady } from '../helpers/sidecar.ts';

function get(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

it('SIGTERM with requests in flight: they complete, the process stops gracefully and exits 0', async () => {
  // exit 0 is the graceful stop within the sidecar's own budget (SHUTDOWN_TIMEOUT_MS): past it the sidecar exits 1
  // (src/main.ts). The budget is the liveness bound here: a loaded machine must not turn this into a time limit.
  const { child, base, exited } = await spawnFakeSidecar([{ source: 'tasks', options: { mode: 'passes', count: 20000 } }],
    { SHUTDOWN_TIMEOUT_MS: String(LIVENESS_MS) });
  await untilReady(base);

  // 64 open keep-alive connections, then a filtered query on each, every one a different question (none answered
  // from a cache): the store works them out one after another, so most are still in flight at the signal
  const N = 64;
  const agent = new Agent({ keepAlive: true, maxSockets: N });
  await Promise.all(Array.from({ length: N }, () => get(agent, `${base}/healthz`)));
  const inFlightGauge = async (): Promise<number> =>
    value(parseProm(await (await fetch(`${base}/metrics`)).text()), 'market_runtime_http_requests_in_flight') ?? 0;
  // the signal once the server is answering some of them (its gauge counts this /metrics request too). The scrape
  // reads the gauge after the store answered it, i.e. after the queries queued before it: a round may be all
  // answered by then (a busy machine once was). Such a round is checked and another sent, up to the liveness bound.
  const until = Date.now() + LIVENESS_MS;
  let round = 0;
  let answered = 0;
  let inFlight: Array<Promise<{ status: number; body: string }>>;
  for (;;) {
    answered = 0;
    const first = round * N;
    round += 1;
    // user k % 7 with app k % 50: 350 different questions, each with tasks (the fake's task i has both i's)
    inFlight = Array.from({ length: N }, (_, i) => (first + i) % 350).map((k) =>
      get(agent, `${base}/api/v2/runtime/state?user_id=user${k % 7}&app_name=app${k % 50}`).finally(() => { answered += 1; }));
    if ((await inFlightGauge()) >= 2 && answered < N) break;
    for (const r of await Promise.all(inFlight)) expect(r.status).toBe(200);
    expect(Date.now(), `no round of ${N} queries was seen in flight (${round} rounds)`).toBeLessThan(until);
  }
  child.kill('SIGTERM');
  const atSignal = answered;
  // requests were in flight: else the stop had nothing to wait for and the test would prove nothing
  expect(atSignal).toBeLessThan(N);

  const results = await Promise.all(inFlight);
  for (const r of results) {
    expect(r.status).toBe(200);
    expect(Object.keys(JSON.parse(r.body).data.tasks).length).toBeGreaterThan(0);
  }
  expect(await exited).toBe(0);
  await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  agent.destroy();
});
