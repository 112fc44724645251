import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsSubscription, natsConnection } from '../../src/sources/nats.ts';
import { eventually } from '../helpers/sidecar.ts';
import { freePort, TestNatsServer } from '../helpers/nats.ts';
import { describeWith } from '../helpers/services.ts';

describe('natsConnection: credentials in NATS_URL', () => {
  it.each([
    ['no credentials', 'nats://127.0.0.1:4222', { servers: 'nats://127.0.0.1:4222' }],
    ['a user and a password', 'nats://market:s3cret@nats.os-platform:4222', { servers: 'nats://nats.os-platform:4222', user: 'market', pass: 's3cret' }],
    ['percent-encoded ones', 'tls://m%40rket:p%3Ass%2Fw@nats:4222', { servers: 'tls://nats:4222', user: 'm@rket', pass: 'p:ss/w' }],
    ['a token', 'nats://t0ken@nats:4222', { servers: 'nats://nats:4222', token: 't0ken' }],
    ['a websocket path', 'wss://u:p@example.com/nats', { servers: 'wss://example.com/nats', user: 'u', pass: 'p' }],
  ])('%s', (_name, url, expected) => {
    expect(natsConnection(url)).toEqual(expected);
  });
});

describeWith('nats-server', 'a NATS server that requires credentials', () => {
  const servers: TestNatsServer[] = [];
  let withPassword: TestNatsServer;
  let withToken: TestNatsServer;

  beforeAll(async () => {
    withPassword = new TestNatsServer(await freePort(), { user: 'market', pass: 's3cret' });
    withToken = new TestNatsServer(await freePort(), { token: 'runtime-token-1' });
    servers.push(withPassword, withToken);
    await Promise.all(servers.map((s) => s.start()));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  /** Subscribes with `url`, publishes one message with the server's own credentials, answers what arrived. */
  async function receive(url: string, publishAs: Parameters<typeof connect>[0]): Promise<{ got: string[]; sub: NatsSubscription }> {
    const got: string[] = [];
    const sub = new NatsSubscription({ url, subject: 'os.application.test', onMessage: (d) => got.push(new TextDecoder().decode(d)) });
    sub.start();
    await sub.waitConnected(5000);
    if (sub.connected) {
      const pub = await connect(publishAs);
      pub.publish('os.application.test', 'hello');
      await pub.flush();
      await pub.close();
      await eventually(async () => expect(got).toEqual(['hello']));
    }
    return { got, sub };
  }

  it('connects with the user and password given in NATS_URL, and receives', async () => {
    const { sub } = await receive(`nats://market:s3cret@127.0.0.1:${withPassword.port}`,
      { servers: withPassword.url, user: 'market', pass: 's3cret' });
    expect(sub.connected).toBe(true);
    await sub.close();
  });

  it('connects with the token given in NATS_URL, and receives', async () => {
    const { sub } = await receive(`nats://runtime-token-1@127.0.0.1:${withToken.port}`,
      { servers: withToken.url, token: 'runtime-token-1' });
    expect(sub.connected).toBe(true);
    await sub.close();
  });

  it('a wrong password is a clear error that does not carry the password', async () => {
    const sub = new NatsSubscription({ url: `nats://market:wr0ng-pass@127.0.0.1:${withPassword.port}`, subject: 'x', onMessage: () => undefined });
    sub.start();
    await eventually(async () => expect(sub.lastError).toMatch(/authorization/i));
    expect(sub.connected).toBe(false);
    expect(sub.lastError).not.toContain('wr0ng-pass');
    await sub.close();
  });
});
