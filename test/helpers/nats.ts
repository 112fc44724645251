import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { NATS_BIN } from './services.ts';

// one free-port finder for tests and benchmarks (bench/lib/net.ts): bench/events.ts takes it from here
export { freePort } from '../../bench/lib/net.ts';

/**
 * A real nats-server of the test's own, on a loopback port, that the test can stop and start again; `auth`
 * makes it require a user and password, or a token.
 */
export class TestNatsServer {
  private child: ChildProcess | null = null;
  constructor(readonly port: number, private readonly auth?: { user: string; pass: string } | { token: string }) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const auth = !this.auth ? [] : 'token' in this.auth ? ['--auth', this.auth.token] : ['--user', this.auth.user, '--pass', this.auth.pass];
    this.child = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(this.port), ...auth], { stdio: 'ignore' });
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('nats-server did not start');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
