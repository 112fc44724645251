import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const base = { DATABASE_URL: 'postgres://x@h/db' };

/** The problems a configuration has, as the operator reads them (one `VARIABLE: why` each). */
function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('names each bad variable once, one line a problem', () => {
    expect(problems({ ...base, PORT: 'eighty', LOG_LEVEL: 'loud' })).toEqual([
      'PORT: must be a whole number',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('says a *_MS or *_MB value is a plain number, not a duration or a size like the STUCK_* limits', () => {
    expect(problems({ ...base, COLLECT_INTERVAL_MS: '5s', MEMORY_LIMIT_MB: '1Gi' })).toEqual([
      'COLLECT_INTERVAL_MS: must be a whole number of milliseconds (5000 for 5 s)',
      'MEMORY_LIMIT_MB: must be a whole number of MiB (1024 for 1 GiB)',
    ]);
  });

  it('reads a token stored with a trailing newline (a Secret made --from-file) as the token', () => {
    expect(loadConfig({ ...base, RUNTIME_API_TOKEN: 'abcdefghijklmnop\n' }).apiToken).toBe('abcdefghijklmnop');
    expect(loadConfig({ ...base, RUNTIME_API_TOKEN: '  abcdefghijklmnop  ' }).apiToken).toBe('abcdefghijklmnop');
  });

  it('refuses a token no client could send, instead of starting with an API nobody can use', () => {
    expect(problems({ ...base, RUNTIME_API_TOKEN: ' '.repeat(16) })[0]).toMatch(/^RUNTIME_API_TOKEN: must be at least 16/);
    expect(problems({ ...base, RUNTIME_API_TOKEN: 'abcdefgh ijklmnop' })[0]).toMatch(/^RUNTIME_API_TOKEN: must be printable ASCII without spaces/);
    expect(problems({ ...base, RUNTIME_API_TOKEN: 'abcdefghijklmnöp' })[0]).toMatch(/^RUNTIME_API_TOKEN:/);
  });

  it('catches at start what would only fail on the first request', () => {
    expect(problems({ ...base, CHART_REPO_SERVICE_HOST: '127.0.0.1:99999' })).toEqual(['CHART_REPO_SERVICE_HOST: must have a port from 1 to 65535']);
    expect(problems({ ...base, CHART_REPO_SERVICE_HOST: 'chart-repo:0' })).toHaveLength(1);
    expect(loadConfig({ ...base, CHART_REPO_SERVICE_HOST: '[::1]:8082' }).chartRepoHost).toBe('[::1]:8082');
    expect(loadConfig({ ...base, CHART_REPO_SERVICE_HOST: 'chart-repo' }).chartRepoHost).toBe('chart-repo');
    expect(problems({ ...base, NATS_URL: 'nats://' })).toEqual(['NATS_URL: must be a URL with scheme nats or tls or ws or wss and a host']);
    expect(problems({ ...base, HOST: 'bad host name' })[0]).toMatch(/^HOST: must be an IP address/);
    for (const host of ['0.0.0.0', '::', '127.0.0.1', 'localhost', 'market-runtime.svc']) expect(loadConfig({ ...base, HOST: host }).host).toBe(host);
    // libpq's own form for a Unix socket has no host in the authority
    expect(loadConfig({ DATABASE_URL: 'postgres:///market?host=/run/postgresql' }).databaseUrl).toBe('postgres:///market?host=/run/postgresql');
  });

  it('a HOST this machine cannot listen on stops the process with one line naming HOST, no stack trace', async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of any machine that runs the tests: the listen fails at once
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../../src/main.ts', import.meta.url).pathname], {
      env: { ...process.env, ...base, HOST: '192.0.2.1', PORT: '0', RUNTIME_API_TOKEN: 'abcdefghijklmnop' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { out += d; });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(1);
    const failed = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; err?: string; hint?: string })
      .find((l) => l.msg === 'failed to start');
    expect(failed?.err).toMatch(/EADDRNOTAVAIL/);
    expect(failed?.hint).toBe('HOST 192.0.2.1 is not an address of this machine: set HOST to one (0.0.0.0 for all)');
    expect(out).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a bad value stops the process with exit 2 and the documented line on stderr, nothing else', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../../src/main.ts', import.meta.url).pathname], {
      env: { ...process.env, ...base, PORT: 'eighty', RUNTIME_API_TOKEN: 'short' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe('market-runtime: invalid configuration: PORT: must be a whole number\n'
      + 'market-runtime: invalid configuration: RUNTIME_API_TOKEN: must be at least 16 characters (spaces around it do not count)\n');
  });
});
