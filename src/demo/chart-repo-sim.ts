import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MarketModel } from './market-model.ts';
import { ALL_INCLUDES, statusData, type Include } from './chart-repo-payload.ts';

/**
 * A Chart Repo on a loopback port answering `GET /chart-repo/api/v2/status?user=&source=&include=` from
 * the simulated market. Tests can make it fail (500, refused connections, hanging requests) and slip
 * hostile items into its answers to prove the sidecar survives them.
 */

export type FailMode = 'ok' | '500' | 'refuse' | 'hang';

/** Raw items added to answers as they are (they need not fit the schemas); no user/source: every answer. */
export interface Injection {
  user?: string;
  source?: string;
  apps?: unknown[];
  images?: unknown[];
  hydratorTasks?: unknown[];
}

export interface ChartRepoSim {
  /** host:port, what CHART_REPO_SERVICE_HOST takes */
  host: string;
  port: number;
  /** requests answered or held so far */
  requests(): number;
  setFailing(mode: FailMode): Promise<void>;
  inject(injection: Injection): void;
  clearInjections(): void;
  stop(): Promise<void>;
}

const STATUS_PATH = '/chart-repo/api/v2/status';

/**
 * Items a hostile or broken Chart Repo might send for (user, source): markup in names (valid data the
 * pages must escape), a name past the length bound (clipped to it and counted, the item kept), fields of the
 * wrong type (each left out alone, its item kept) and a name of the wrong type (that item dropped alone).
 */
export function hostileItems(user: string, source: string): Injection {
  const base = { user_id: user, source_id: source };
  return {
    user, source,
    apps: [
      { ...base, app_id: 'xss1', app_name: '<img src=x onerror="window.__pwned=1">', state: 'processing',
        current_step: { name: '<script>window.__pwned=2</script>', index: 1, total: 5 } },
      { ...base, app_id: 'long', app_name: 'a'.repeat(5000), state: 'pending' },
      { ...base, app_id: 42, app_name: 'wrong-types', state: 'exploded', current_step: { name: 'S', index: 'one' } },
      { ...base, app_id: 'no-name', app_name: ['not', 'a', 'name'], state: 'pending' },
    ],
    images: [
      { image_name: '"><svg onload="window.__pwned=3">', status: 'partially_downloaded', nodes: [{ node_name: '<b>n</b>' }] },
      { image_name: 'bad-status', status: 'teleported', total_size: 'huge' },
    ],
    hydratorTasks: [{ task_id: '<iframe src=javascript:window.__pwned=4>', app_name: 'x', retry_count: 'many' }],
  };
}

export async function startChartRepoSim(model: MarketModel, opts: { port?: number } = {}): Promise<ChartRepoSim> {
  let mode: FailMode = 'ok';
  let count = 0;
  let injections: Injection[] = [];
  const held = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const bytes = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(bytes) });
    res.end(bytes);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    count += 1;
    const url = new URL(req.url ?? '/', 'http://chart-repo.local');
    if (req.method !== 'GET' || url.pathname !== STATUS_PATH) {
      send(res, 404, { success: false, message: `not found: ${url.pathname}` });
      return;
    }
    if (mode === 'hang') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (mode === '500') {
      send(res, 500, { success: false, message: 'internal server error (simulated)' });
      return;
    }
    const user = url.searchParams.get('user')?.trim() ?? '';
    if (!user) {
      send(res, 400, { success: false, message: 'user is required' });
      return;
    }
    const source = url.searchParams.get('source')?.trim() || undefined;
    const include = parseInclude(url.searchParams.get('include'));
    const data = statusData(model, { user, source, include });
    for (const inj of injections) {
      if ((inj.user && inj.user !== user) || (inj.source && inj.source !== source)) continue;
      if (inj.apps && include.includes('apps')) data.apps = [...((data.apps as unknown[]) ?? []), ...inj.apps];
      if (inj.images && include.includes('images')) data.images = [...((data.images as unknown[]) ?? []), ...inj.images];
      if (inj.hydratorTasks && include.includes('tasks')) {
        const tasks = (data.tasks ??= {}) as Record<string, Record<string, unknown>>;
        const hydrator = (tasks.hydrator ??= {});
        hydrator.tasks = [...((hydrator.tasks as unknown[]) ?? []), ...inj.hydratorTasks];
      }
    }
    send(res, 200, { success: true, message: 'success', data });
  };

  const server = createServer(handle);
  // idle connections stay open past the slowest collection interval, as a Go server's do (no idle timeout
  // unless set): the sidecar's keep-alive Agent reuses them from pass to pass
  server.keepAliveTimeout = 120_000;
  const listen = (port: number): Promise<number> => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const close = (): Promise<void> => new Promise((resolve) => {
    for (const res of held) res.destroy();
    held.clear();
    server.closeAllConnections();
    server.close(() => resolve());
  });

  const port = await listen(opts.port ?? 0);
  return {
    host: `127.0.0.1:${port}`,
    port,
    requests: () => count,
    async setFailing(next) {
      const was = mode;
      mode = next;
      if (was === 'hang' && next !== 'hang') {
        for (const res of held) res.destroy();
        held.clear();
      }
      // refusing means nothing listens: close the port, and take the same port back afterwards
      if (next === 'refuse' && was !== 'refuse') await close();
      if (was === 'refuse' && next !== 'refuse') await listen(port);
    },
    inject(injection) {
      injections.push(injection);
    },
    clearInjections() {
      injections = [];
    },
    async stop() {
      if (mode !== 'refuse') await close();
      mode = 'refuse';
    },
  };
}

function parseInclude(raw: string | null): Include[] {
  if (!raw) return [...ALL_INCLUDES];
  const wanted = raw.split(',').map((s) => s.trim());
  return ALL_INCLUDES.filter((i) => wanted.includes(i));
}
