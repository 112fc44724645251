import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('Dockerfile (no Docker engine here: checked as text)', () => {
  const df = read('Dockerfile');
  const final = df.slice(df.lastIndexOf('\nFROM '));
  it('is multi-stage on node:20.20-slim (the Node the code was measured and its workarounds checked on), production dependencies only', () => {
    expect(df.match(/^FROM node:20\.20-slim/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(df).toMatch(/npm ci --omit=dev/);
    expect(final).not.toMatch(/COPY --from=build \/app\/node_modules/);
  });
  it('runs node --single-threaded dist/main.js as a non-root user, demo off, with healthcheck, port and stop signal', () => {
    expect(final).toMatch(/^USER (?!root|0\b)\S+/m);
    expect(final).toMatch(/RUNTIME_DEMO=off/);
    expect(final).toMatch(/^HEALTHCHECK .*CMD \["node", "-e", .*\/healthz/ms);
    expect(final).toMatch(/^EXPOSE 8080$/m);
    expect(final).toMatch(/^STOPSIGNAL SIGTERM$/m);
    // no V8 background tasks (a V8 flag: only the command line sets it)
    expect(final).toMatch(/^CMD \["node", "--single-threaded", "dist\/main\.js"\]$/m);
  });
  it('is started the same way by the image, npm run start:prod (which the benches follow) and npm start', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(final)![1]) as string[];
    // `exec`: npm's shell gives way to node, so a SIGTERM sent to npm reaches the sidecar (not an orphan)
    expect(scripts['start:prod'].split(' ')).toEqual(['exec', ...cmd]);
    const flags = cmd.slice(1, -1);
    expect(scripts.start.startsWith(['exec', 'node', ...flags].join(' ') + ' ')).toBe(true);
  });
  it('keeps secrets, tests and build output out of the context', () => {
    const ignore = read('.dockerignore').split('\n');
    for (const p of ['.git', 'node_modules', 'dist', '.env', 'test']) expect(ignore).toContain(p);
  });
});

describe('deploy/market-runtime-sidecar.yaml', () => {
  const y = read('deploy/market-runtime-sidecar.yaml');
  const sidecar = y.slice(y.indexOf('- name: market-runtime'));
  it('takes the connection settings from a Secret and probes /healthz and /readyz', () => {
    for (const key of ['DATABASE_URL', 'CHART_REPO_SERVICE_HOST', 'NATS_URL', 'RUNTIME_API_TOKEN']) {
      expect(sidecar).toMatch(new RegExp(`name: ${key}\\n\\s+valueFrom: \\{ secretKeyRef: \\{ name: market-runtime, key: ${key}`));
    }
    expect(sidecar).toMatch(/livenessProbe:\n\s+httpGet: \{ path: \/healthz/);
    expect(sidecar).toMatch(/readinessProbe:\n(\s+#.*\n)?\s+httpGet: \{ path: \/readyz/);
    expect(sidecar).toMatch(/RUNTIME_DEMO, value: "off"/);
  });
  it('is locked down and sized', () => {
    for (const s of ['runAsNonRoot: true', 'readOnlyRootFilesystem: true', 'allowPrivilegeEscalation: false', 'capabilities: { drop: ["ALL"] }']) {
      expect(sidecar).toContain(s);
    }
    expect(sidecar).toMatch(/requests: \{ cpu: \S+, memory: \d+Mi \}/);
    expect(sidecar).toMatch(/limits: \{ cpu: \S+, memory: \d+Mi \}/);
  });
  it('gives the graceful stop enough time', () => {
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(y)?.[1]);
    const shutdownMs = Number(/SHUTDOWN_TIMEOUT_MS, value: "(\d+)"/.exec(y)?.[1]);
    // the sidecar gives up (exit 1) at SHUTDOWN_TIMEOUT_MS + 1.5 s
    expect(grace * 1000).toBeGreaterThan(shutdownMs + 1500);
    expect(shutdownMs).toBe(loadConfig({ DATABASE_URL: 'postgres://x@h/db' }).shutdownTimeoutMs);
  });
});

describe('configuration added by issue 10', () => {
  const base = { DATABASE_URL: 'postgres://x@h/db' };
  it('METRICS_REQUIRE_TOKEN defaults to true; CORS is off unless CORS_ORIGINS is set', () => {
    const c = loadConfig(base);
    expect(c.metricsRequireToken).toBe(true);
    expect(c.corsOrigins).toBeUndefined();
    expect(loadConfig({ ...base, METRICS_REQUIRE_TOKEN: 'false' }).metricsRequireToken).toBe(false);
    expect(loadConfig({ ...base, CORS_ORIGINS: 'https://a.example, https://b.example:8443' }).corsOrigins)
      .toEqual(['https://a.example', 'https://b.example:8443']);
  });
  it('rejects bad values with a message naming the variable', () => {
    expect(() => loadConfig({ ...base, METRICS_REQUIRE_TOKEN: 'yes' })).toThrow(/METRICS_REQUIRE_TOKEN/);
    expect(() => loadConfig({ ...base, CORS_ORIGINS: 'not an origin' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ RUNTIME_DEMO: 'off' })).toThrow(/DATABASE_URL/);
  });
});
