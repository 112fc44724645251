import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a sidecar, to play a restart or a Service switching replicas under an open
 * page: `retarget(port)` sends new connections to another port and cuts the open ones (the page's stream and
 * kept-alive connections reconnect, to the new target); `retarget(null)` plays a sidecar that is gone (every
 * connection is cut at once) until it is retargeted again.
 */
export interface TcpProxy {
  readonly port: number;
  readonly base: string;
  retarget(port: number | null): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number | null): Promise<TcpProxy> {
  let target = targetPort;
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (target === null) { client.destroy(); return; }
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy: no port');
  return {
    port: address.port,
    base: `http://127.0.0.1:${address.port}`,
    retarget(port) {
      target = port;
      for (const s of open) s.destroy();
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
