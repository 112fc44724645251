import { Agent, get as httpGet } from 'node:http';
import { expect, it } from 'vitest';
import { eventually, spawnFakeSidecar } from '../helpers/sidecar.ts';

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
  // exit 0 is the graceful stop within the sidecar's own budget (SHUTDOWN_TIMEOUT_MS, 8 s): past it the
  // sidecar exits 1 (src/main.ts). Most of the stop is waiting out idle keep-alive connections, not CPU.
  const { child, base, exited } = await spawnFakeSidecar([{ source: 'tasks', options: { mode: 'passes', count: 20000 } }]);
  await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200));

  // eight open keep-alive connections, then one slow filtered query on each: all on the wire at the signal
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  await Promise.all(Array.from({ length: 8 }, () => get(agent, `${base}/healthz`)));
  const inFlight = Array.from({ length: 8 }, (_, i) => get(agent, `${base}/api/v2/runtime/state?user_id=user${i % 7}`));
  await new Promise((r) => setTimeout(r, 15));
  child.kill('SIGTERM');

  const results = await Promise.all(inFlight);
  for (const r of results) {
    expect(r.status).toBe(200);
    expect(Object.keys(JSON.parse(r.body).data.tasks).length).toBeGreaterThan(0);
  }
  expect(await exited).toBe(0);
  await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  agent.destroy();
});
