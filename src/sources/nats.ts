import { connect, type ConnectionOptions, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export interface NatsSubscriptionOptions {
  url: string;
  subject: string;
  onMessage(data: Uint8Array): void;
  onStatus?(text: string): void;
}

/**
 * Where and how to connect, from NATS_URL. Credentials in the URL follow the NATS convention the Go client and
 * the `nats` CLI read (`nats://user:password@host:4222`, `nats://token@host:4222`); the JavaScript client does
 * not read them from `servers`, so they are taken out and passed as its options, and never logged with the host.
 */
export function natsConnection(url: string): Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'token'> {
  const u = new URL(url);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const servers = u.toString().replace(/\/$/, '');
  if (user && pass) return { servers, user, pass };
  if (user) return { servers, token: user };
  return { servers };
}

/**
 * I/O only: one NATS connection and subscription that reconnects by itself (backoff with jitter, forever,
 * including when the server is down at start). Subscriptions are restored by the client on reconnect.
 */
export class NatsSubscription {
  private nc: NatsConnection | null = null;
  private sub: Subscription | null = null;
  private closed = false;
  connected = false;
  reconnects = 0;
  lastError: string | null = null;

  constructor(private readonly opts: NatsSubscriptionOptions) {}

  private firstConnect: Promise<void> | null = null;

  start(): void {
    this.firstConnect = this.open();
  }

  /** Resolves once connected for the first time, or after `ms` (whichever comes first). */
  async waitConnected(ms: number): Promise<void> {
    if (this.connected || !this.firstConnect) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstConnect, new Promise((r) => { timer = setTimeout(r, ms); })]);
    clearTimeout(timer);
  }

  private async open(): Promise<void> {
    let delay = 250;
    while (!this.closed && !this.nc) {
      try {
        const nc = await connect({
          ...natsConnection(this.opts.url),
          name: 'market-runtime',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          reconnectJitter: 500,
          timeout: 5000,
        });
        if (this.closed) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.sub = nc.subscribe(this.opts.subject);
        void this.watch(nc);
        void this.consume(this.sub);
        // the server has the subscription before this says connected: core NATS keeps nothing for late subscribers
        await nc.flush().catch(() => undefined);
        this.connected = !nc.isClosed();
      } catch (err) {
        this.lastError = `connect: ${err instanceof Error ? err.message : String(err)}`;
        this.opts.onStatus?.(this.lastError);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.lastError = 'disconnected';
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.reconnects += 1;
        this.lastError = null;
      }
      this.opts.onStatus?.(s.type);
    }
  }

  private async consume(sub: Subscription): Promise<void> {
    for await (const m of sub) this.opts.onMessage(m.data);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.nc?.close().catch(() => undefined);
  }
}
