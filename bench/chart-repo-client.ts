// npm run bench:chart-repo-client [-- --smoke] [-- --requests 2000 --rounds 5]
// CPU per Chart Repo request of the collector's client (node:http, keep-alive Agent) against fetch (undici, what
// the client used before issue 20) and a bare http.get on the same Agent (the floor: what node:http itself costs).
// A local server in a child process answers every request with the same ~18 KB JSON status; 4 requests in flight
// as the collector sends them; the clients take turns round by round, and the median round counts. The CPU is
// this process's (every thread: GC included), so garbage a client makes is charged to it.
import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createChartRepoAgent, fetchChartRepoBody, statusUrl } from '../src/sources/chart-repo-client.ts';
import { median } from './lib/median.ts';

const { values: args } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, requests: { type: 'string' }, rounds: { type: 'string' } },
});
const REQUESTS = Number(args.requests ?? (args.smoke ? 200 : 2000));
const ROUNDS = Number(args.rounds ?? (args.smoke ? 2 : 5));
const IN_FLIGHT = 4;
const TIMEOUT_MS = 10_000;

// the server: one status body of ~18 KB (50 apps with their current step), kept-alive connections as Go keeps them
const SERVER = `
import { createServer } from 'node:http';
const app = (i) => ({ app_id: 'app' + i, app_name: 'app-' + i, user_id: 'alice', source_id: 'market', state: 'processing',
  current_step: { name: 'RenderedChartStep', index: 2, total: 5, status: 'running', started_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:01Z', retry_count: 0 },
  timestamps: { created_at: '2025-01-01T00:00:00Z', last_updated_at: '2025-01-01T00:00:01Z' } });
const body = Buffer.from(JSON.stringify({ success: true, message: 'success',
  data: { system: { uptime: 1234, version: '1.0', hostname: 'cr' }, apps: Array.from({ length: 50 }, (_, i) => app(i)) } }));
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
});
server.keepAliveTimeout = 120000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port + ' ' + body.length));
`;
const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [port, bodyBytes] = await new Promise<number[]>((resolve) => {
  createInterface({ input: child.stdout! }).once('line', (l) => resolve(l.split(' ').map(Number)));
});
const host = `127.0.0.1:${port}`;

type Client = { name: string; get: (i: number) => Promise<number> };
const agent = createChartRepoAgent(IN_FLIGHT);
const bareAgent = createChartRepoAgent(IN_FLIGHT);
const users = (i: number) => ({ user: `u${i % 50}`, source: 'market' });

/** the GET as the client sent it with fetch: its own timeout, no redirects, the body read whole */
async function viaFetch(i: number): Promise<number> {
  const { user, source } = users(i);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const res = await fetch(statusUrl(host, user, source), { signal: ctl.signal, redirect: 'manual', headers: { accept: 'application/json' } });
    const body = Buffer.from(await res.arrayBuffer());
    return body.toString('utf8').length;
  } finally {
    clearTimeout(timer);
  }
}

/** node:http with nothing around it: no timeout, no cap, no error mapping */
function bare(a: Agent, i: number): Promise<number> {
  const { user, source } = users(i);
  return new Promise((resolve, reject) => {
    get(statusUrl(host, user, source), { agent: a, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').length));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const clients: Client[] = [
  { name: 'chart-repo-client (node:http, keep-alive Agent)', get: async (i) => {
    const r = await fetchChartRepoBody({ host, ...users(i), timeoutMs: TIMEOUT_MS, agent });
    return r.body.toString('utf8').length;
  } },
  { name: 'fetch (undici), as before', get: viaFetch },
  { name: 'bare http.get, same Agent (floor)', get: (i) => bare(bareAgent, i) },
];

/** REQUESTS requests, IN_FLIGHT at a time; CPU ms of this process and wall ms */
async function round(c: Client): Promise<{ cpu: number; wall: number }> {
  let next = 0;
  let wrong = 0;
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < REQUESTS) {
      next += 1;
      if ((await c.get(next)) !== bodyBytes) wrong += 1;
    }
  }));
  const u = process.cpuUsage(u0);
  if (wrong > 0) throw new Error(`${c.name}: ${wrong} bodies of the wrong size`);
  return { cpu: (u.user + u.system) / 1000, wall: performance.now() - t0 };
}

const results = new Map(clients.map((c) => [c, [] as Array<{ cpu: number; wall: number }>]));
try {
  for (const c of clients) await round(c); // warm-up: JIT, connections
  for (let r = 0; r < ROUNDS; r++) {
    // each round starts with a different client, so none always runs after another's garbage
    for (let k = 0; k < clients.length; k++) {
      const c = clients[(r + k) % clients.length]!;
      results.get(c)!.push(await round(c));
    }
  }
} finally {
  agent.destroy();
  bareAgent.destroy();
  child.kill();
}

const perRequest = (c: Client) => median(results.get(c)!.map((x) => x.cpu)) / REQUESTS;
const ours = perRequest(clients[0]!);
console.log(`\n${REQUESTS} requests x ${ROUNDS} rounds per client, ${IN_FLIGHT} in flight, ${bodyBytes} B JSON bodies, node ${process.version}\n`);
const header = ['client', 'CPU ms / request', 'requests / s', 'CPU vs chart-repo-client'];
const rows = clients.map((c) => [
  c.name,
  perRequest(c).toFixed(3),
  Math.round(REQUESTS / (median(results.get(c)!.map((x) => x.wall)) / 1000)).toLocaleString('en-US'),
  `${(perRequest(c) / ours).toFixed(2)}x`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of rows) console.log(line(r));
