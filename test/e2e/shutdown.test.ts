import { Agent, get as httpGet } from 'node:http';
import { expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { parseProm, value } from '../helpers/prom.ts';
import { eventually, spawnFakeSidecar, untilReady } from '../helpers/sidecar.ts';

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
  let answered = 0;
  const inFlight = Array.from({ length: N }, (_, i) => get(agent, `${base}/api/v2/runtime/state?user_id=user${i % 7}&app_name=app${i % 50}`)
    .finally(() => { answered += 1; }));
  // the signal once the server is answering some of them (its gauge counts this /metrics request too)
  await eventually(async () => {
    const gauge = value(parseProm(await (await fetch(`${base}/metrics`)).text()), 'market_runtime_http_requests_in_flight');
    expect(gauge ?? 0).toBeGreaterThanOrEqual(2);
  }, LIVENESS_MS, 1);
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
