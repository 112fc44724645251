// Slow, realistic clients (as opposed to autocannon's closed loop): pollers that ask every period with the
// ETag of their last answer, and change-stream readers that count events by kind. Both count the body bytes
// they receive, so "what does a quiet market cost a client" is measured, not estimated.
import { Agent, get, type IncomingMessage } from 'node:http';
import { sleep } from './net.ts';


interface Answer { status: number; etag: string | null; freshAsOf: string | null; bytes: number }

function ask(agent: Agent, url: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, headers, timeout: timeoutMs }, (res: IncomingMessage) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, etag: (res.headers.etag as string | undefined) ?? null,
        freshAsOf: (res.headers['x-runtime-fresh-as-of'] as string | undefined) ?? null, bytes,
      }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export interface PollResult {
  clients: number;
  seconds: number;
  /** conditional polls sent in the measured window (each with the ETag of the client's last answer) */
  polls: number;
  notModified: number;
  full: number;
  /** answers neither 200 nor 304, and requests that failed */
  errors: number;
  /** 304s and 200s without the X-Runtime-Fresh-As-Of header */
  withoutFreshness: number;
  /** distinct X-Runtime-Fresh-As-Of values seen: freshness moving while the ETag does not */
  freshnessValues: number;
  /** distinct ETags seen over the window (including the one each client started from) */
  etags: number;
  /** body bytes received in the window */
  bytes: number;
  /** body bytes per client per minute */
  bytesPerClientPerMinute: number;
  /** share of polls answered 304, in percent (1 decimal) */
  notModifiedPct: number;
}

/**
 * `clients` pollers, each asking `url` every `periodMs` for `seconds` (starts spread over one period), with
 * `If-None-Match` set to the ETag of its last answer, as a browser or a Go client with a cache does. Each
 * first gets one unconditional answer before the window opens: the window holds only conditional polls.
 * Identity encoding, so bytes are the body's own.
 */
export async function pollConditionally(url: string, opts: { clients: number; periodMs: number; seconds: number }): Promise<PollResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });
  const timeoutMs = Math.max(10_000, opts.periodMs * 10);
  const etags = new Set<string>();
  const fresh = new Set<string>();
  const r = { polls: 0, notModified: 0, full: 0, errors: 0, withoutFreshness: 0, bytes: 0 };
  try {
    const first = await Promise.all(Array.from({ length: opts.clients }, () => ask(agent, url, {}, timeoutMs)));
    for (const a of first) if (a.status !== 200 || !a.etag) throw new Error(`priming poll answered ${a.status}${a.etag ? '' : ' without an ETag'}`);
    const start = performance.now();
    const end = start + opts.seconds * 1000;
    const client = async (k: number, etag: string) => {
      etags.add(etag);
      let due = start + (k * opts.periodMs) / opts.clients;
      while (due < end) {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        due += opts.periodMs;
        r.polls += 1;
        try {
          const a = await ask(agent, url, { 'If-None-Match': etag }, timeoutMs);
          r.bytes += a.bytes;
          if (a.freshAsOf) fresh.add(a.freshAsOf);
          else if (a.status === 200 || a.status === 304) r.withoutFreshness += 1;
          if (a.status === 304) r.notModified += 1;
          else if (a.status === 200 && a.etag) {
            r.full += 1;
            etag = a.etag;
            etags.add(etag);
          } else r.errors += 1;
        } catch {
          r.errors += 1;
        }
      }
    };
    await Promise.all(first.map((a, k) => client(k, a.etag!)));
    const seconds = (performance.now() - start) / 1000;
    return {
      clients: opts.clients, seconds: Math.round(seconds * 10) / 10, ...r,
      freshnessValues: fresh.size, etags: etags.size,
      bytesPerClientPerMinute: Math.round(r.bytes / opts.clients / (seconds / 60)),
      notModifiedPct: r.polls > 0 ? Math.round((r.notModified / r.polls) * 1000) / 10 : 0,
    };
  } finally {
    agent.destroy();
  }
}

export interface StreamResult {
  clients: number;
  seconds: number;
  /** clients whose stream opened (200 and a first event) */
  connected: number;
  /** per client, summed: the first `snapshot` event each gets is counted apart */
  snapshots: number;
  changes: number;
  freshness: number;
  /** comment lines (heartbeats) */
  heartbeats: number;
  /** body bytes per client: everything, and after the first snapshot */
  bytesPerClient: number;
  bytesAfterSnapshotPerClient: number;
  /** most change events any one client received */
  maxChangesPerClient: number;
}

/**
 * `clients` readers of a Server-Sent Events stream for `seconds`, counting events by kind and body bytes. The
 * window opens once every client has its first snapshot, so bytes after it are what a quiet market costs.
 */
export async function readStreams(url: string, opts: { clients: number; seconds: number; openTimeoutMs?: number }): Promise<StreamResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: opts.clients });
  interface One { bytes: number; afterSnapshot: number; snapshot: boolean; kind: string; events: Record<string, number>; heartbeats: number; pending: string }
  const all: One[] = [];
  const requests: Array<ReturnType<typeof get>> = [];
  let opened = 0;
  let onAllOpen: () => void = () => undefined;
  const allOpen = new Promise<void>((r) => { onAllOpen = r; });
  let counting = false;
  for (let i = 0; i < opts.clients; i++) {
    const one: One = { bytes: 0, afterSnapshot: 0, snapshot: false, kind: 'message', events: {}, heartbeats: 0, pending: '' };
    all.push(one);
    const req = get(url, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        one.bytes += chunk.length;
        if (counting) one.afterSnapshot += chunk.length;
        // field names are ASCII; latin1 keeps every byte and never fails on a split UTF-8 sequence
        const lines = (one.pending + chunk.toString('latin1')).split('\n');
        one.pending = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith('event:')) one.kind = line.slice(6).trim();
          else if (line.startsWith(':')) {
            if (counting) one.heartbeats += 1;
          } else if (line === '') {
            // the blank line ends an event: the first snapshot opens the client, the rest are counted
            const kind = one.kind;
            one.kind = 'message';
            if (kind === 'snapshot' && !one.snapshot) {
              one.snapshot = true;
              if (++opened === opts.clients) onAllOpen();
            } else if (counting && kind !== 'message') one.events[kind] = (one.events[kind] ?? 0) + 1;
          }
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    requests.push(req);
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([allOpen, new Promise((r) => { timer = setTimeout(r, opts.openTimeoutMs ?? 60_000); })]);
  clearTimeout(timer);
  counting = true;
  const start = performance.now();
  await sleep(opts.seconds * 1000);
  counting = false;
  const seconds = (performance.now() - start) / 1000;
  for (const req of requests) req.destroy();
  agent.destroy();
  const sum = (f: (o: One) => number) => all.reduce((n, o) => n + f(o), 0);
  return {
    clients: opts.clients, seconds: Math.round(seconds * 10) / 10, connected: opened,
    snapshots: sum((o) => (o.snapshot ? 1 : 0) + (o.events.snapshot ?? 0)),
    changes: sum((o) => o.events.change ?? 0), freshness: sum((o) => o.events.freshness ?? 0),
    heartbeats: sum((o) => o.heartbeats),
    bytesPerClient: Math.round(sum((o) => o.bytes) / opts.clients),
    bytesAfterSnapshotPerClient: Math.round(sum((o) => o.afterSnapshot) / opts.clients),
    maxChangesPerClient: Math.max(0, ...all.map((o) => o.events.change ?? 0)),
  };
}
