import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startSidecar, type Sidecar } from '../../src/main.ts';

export type { Sidecar };

/**
 * The whole sidecar as `npm start` runs it, on its embedded demo market (real collectors on PGlite, the simulated
 * Chart Repo, a workload moving apps and tasks), collecting every second, on a free loopback port. `root` is its
 * http://host:port. Not yet ready: each suite waits for what it needs.
 */
export async function startDemoSidecar(): Promise<{ sidecar: Sidecar; root: string }> {
  const sidecar = await startSidecar(loadConfig({ PORT: '0', HOST: '127.0.0.1', COLLECT_INTERVAL_MS: '1000' }),
    createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  return { sidecar, root: `http://127.0.0.1:${sidecar.supervisor.port}` };
}
