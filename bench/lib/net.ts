import { createServer, type AddressInfo } from 'node:net';

/** A port nobody listens on now (the OS picks it; released before the caller binds it). The tests' too (test/helpers/nats.ts). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
