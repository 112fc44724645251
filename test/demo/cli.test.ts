import { spawn } from 'node:child_process';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { sleep } from '../helpers/liveness.ts';

const CLI = ['--import', 'tsx', 'src/demo/cli.ts'];

function run(args: string[], opts: { untilLine?: RegExp; timeoutMs: number }):
  Promise<{ code: number | null; out: string; child: ReturnType<typeof spawn>; line?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: process.cwd(), env: { ...process.env, LOG_LEVEL: 'info' } });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cli timed out; output:\n${out}`));
    }, opts.timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const line = opts.untilLine ? out.split('\n').find((l) => opts.untilLine?.test(l)) : undefined;
      if (line) {
        clearTimeout(timer);
        resolve({ code: null, out, child, line });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, child });
    });
  });
}

describe('npm run demo', () => {
  it('rejects a bad argument with its name and exit code 2', async () => {
    const r = await run(['--users', 'many'], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/--users must be an integer/);
    expect(r.out).toMatch(/usage: npm run demo/);
  }, 30_000);

  it('a database it cannot use stops it with one line saying what to do, no stack trace', async () => {
    // port 1 on loopback: nothing listens, the connection is refused at once
    const r = await run(['--database-url', 'postgres://demo:s3cret@127.0.0.1:1/market'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { msg: string; err: string; hint: string };
    expect(line.msg).toBe('demo market failed to start');
    expect(line.err).toMatch(/ECONNREFUSED/);
    expect(line.hint).toBe('no PostgreSQL answers at postgres://demo:***@127.0.0.1:1/market: check the host and port of --database-url');
    expect(r.out).not.toMatch(/s3cret|\n\s+at /);
  }, 30_000);

  it('runs standalone (embedded PostgreSQL when no --database-url), serves the Chart Repo, stops on SIGTERM', async () => {
    const r = await run(['--seed', '3', '--chart-repo-port', '0'], { untilLine: /demo market running/, timeoutMs: 60_000 });
    const started = JSON.parse(r.line as string);
    expect(started.msg).toMatch(/DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres CHART_REPO_SERVICE_HOST=127\.0\.0\.1:\d+/);
    const res = await fetch(started.chart_repo);
    expect((await res.json()).success).toBe(true);
    const exited = new Promise<number | null>((resolve) => r.child.on('exit', (code) => resolve(code)));
    r.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);

  it('--installed-apps N seeds a market of that size that stays still: no row moves while the workload would have ticked', async () => {
    const r = await run(['--installed-apps', '40', '--chart-repo-port', '0'], { untilLine: /demo market running/, timeoutMs: 60_000 });
    const started = JSON.parse(r.line as string) as { database: string };
    const sql = postgres(started.database, { max: 1, onnotice: () => undefined });
    try {
      const market = async () => (await sql<{ apps: number; digest: string }[]>`
        SELECT (SELECT count(*)::int FROM user_applications) AS apps,
               md5((SELECT string_agg(s::text, ',' ORDER BY s::text) FROM user_application_states s)
                || (SELECT coalesce(string_agg(t::text, ',' ORDER BY t::text), '') FROM task_records t)) AS digest`)[0]!;
      const before = await market();
      expect(before.apps).toBe(40);
      // the lively demo steps its market every second
      await sleep(3000);
      expect(await market()).toEqual(before);
    } finally {
      await sql.end({ timeout: 2 });
      const exited = new Promise<number | null>((resolve) => r.child.on('exit', (code) => resolve(code)));
      r.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 90_000);
});
