import { createServer, type Server } from 'node:http';
import type { Logger } from '../log.ts';

export interface ChaosTarget {
  /** false (or a promise of false): nothing of that name runs */
  kill(thread: string): boolean | Promise<boolean>;
  /** blocks `store` or `http` for ms (a hung thread: the watchdog replaces it) */
  hang(thread: string, ms: number): boolean;
  threadNames(): string[];
  threadRestarts(): Record<string, number>;
}

/**
 * Chaos testing only (RUNTIME_CHAOS_PORT, off by default): a loopback-only port in the main thread where
 * `POST /kill?thread=<name>` kills one thread the way a crash would, `POST /hang?thread=store|http&ms=<n>`
 * blocks one the way a loop would, and `GET /threads` lists the names and their restart counts. It lives in the supervisor, so it keeps answering while the HTTP thread is down.
 */
export async function startChaosControl(target: ChaosTarget, port: number, log: Logger): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    const answer = (status: number, body: object) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/threads') {
      return answer(200, { threads: target.threadNames(), restarts: target.threadRestarts() });
    }
    if (req.method === 'POST' && url.pathname === '/kill') {
      const thread = url.searchParams.get('thread') ?? '';
      if (!target.threadNames().includes(thread)) return answer(400, { error: `unknown thread ${JSON.stringify(thread)}`, threads: target.threadNames() });
      // (the compression thread runs only while answers are being compressed: killing none is no kill)
      if (!(await target.kill(thread))) return answer(409, { error: `no ${thread} thread is running now`, threads: target.threadNames() });
      log.warn({ thread }, 'chaos control: thread killed');
      return answer(200, { killed: thread });
    }
    if (req.method === 'POST' && url.pathname === '/hang') {
      const thread = url.searchParams.get('thread') ?? '';
      const ms = Math.min(600_000, Math.max(0, Number(url.searchParams.get('ms') ?? '60000') || 0));
      if (!target.hang(thread, ms)) return answer(400, { error: `cannot hang ${JSON.stringify(thread)}: store or http` });
      log.warn({ thread, ms }, 'chaos control: thread hung');
      return answer(200, { hung: thread, ms });
    }
    answer(404, { error: 'POST /kill?thread=<name>, POST /hang?thread=store|http&ms=<n> or GET /threads' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  server.unref();
  log.warn({ port }, 'RUNTIME_CHAOS_PORT is set: threads can be killed from 127.0.0.1 (chaos testing only)');
  return server;
}
