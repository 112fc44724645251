import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startSidecar, type Sidecar } from '../../src/main.ts';

export type { Sidecar };

/**
 * The whole sidecar as `npm start` runs it, on its embedded demo market (real collectors on PGlite, the simulated
 * Chart Repo, a workload moving apps and tasks), collecting every second, on a free loopback port. `root` is its
 * http://host:port. `env` adds or overrides configuration (a token, say). Not yet ready: each suite waits for what it needs.
 */
export async function startDemoSidecar(env: Record<string, string> = {}): Promise<{ sidecar: Sidecar; root: string }> {
  const sidecar = await startSidecar(loadConfig({ PORT: '0', HOST: '127.0.0.1', COLLECT_INTERVAL_MS: '1000', ...env }),
    createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  return { sidecar, root: `http://127.0.0.1:${sidecar.supervisor.port}` };
}
