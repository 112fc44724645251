/**
 * Chart Repo HTTP client: I/O only. One GET of the status endpoint for one (user, source) pair, bounded in
 * time (the whole exchange, body included) and in size (the body is streamed and cut off past the cap).
 * Answers the body's bytes (a caller that has seen the same content skips the parse); parseChartRepoJson parses
 * them, unvalidated: collect/chart-repo.ts decides what of it fits.
 *
 * Built on node:http with a keep-alive Agent rather than fetch (undici): a collector pass sends hundreds of
 * these, and fetch's per-request machinery (WHATWG streams, Request objects, microtasks) cost about 3x the CPU
 * per request (bench/chart-repo-client.ts). What fetch gave for free is done here: redirects are not followed,
 * the timeout covers the body, and a pooled socket the server already closed is retried once.
 */
import { Agent, get, type ClientRequest, type IncomingMessage } from 'node:http';

const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * How long an idle pooled connection is kept: longer than the slowest collection interval (COLLECT_MAX_INTERVAL_MS,
 * 30 s by default), so a pass reuses the previous pass's connections even when backed off. A server that announces
 * a shorter idle timeout (Keep-Alive: timeout=N) is honoured by the Agent (it drops the socket a second before);
 * one that closes without saying costs a retry on the first request of the next pass (see `send`).
 */
const KEEP_ALIVE_IDLE_MS = 60_000;

/**
 * A connection pool for Chart Repo requests. `maxSockets` is the caller's concurrency: never more connections
 * than requests in flight, and as many kept idle for the next pass. Idle sockets are unref'd: they hold no process.
 */
export function createChartRepoAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
}

/** for callers without a pool of their own (the collector's default concurrency) */
let sharedAgent: Agent | null = null;

export type ChartRepoErrorKind = 'refused' | 'timeout' | 'aborted' | 'network' | 'http' | 'not_json' | 'too_large';

/** A failed request; `message` is short and says what went wrong, `kind` lets callers count by cause. */
export class ChartRepoError extends Error {
  constructor(readonly kind: ChartRepoErrorKind, message: string) {
    super(message);
    this.name = 'ChartRepoError';
  }
}

export interface ChartRepoRequest {
  /** host[:port] of the Chart Repo service, as CHART_REPO_SERVICE_HOST */
  host: string;
  user: string;
  source: string;
  /** total time for the request, body included */
  timeoutMs: number;
  /** body cap; defaults to 32 MiB */
  maxBodyBytes?: number;
  /** the caller's deadline (e.g. the collector run's signal) */
  signal?: AbortSignal;
  /** the connection pool (createChartRepoAgent); defaults to one shared by the process */
  agent?: Agent;
}

/** The answer's bytes, not decoded yet: a caller that has seen the same content can skip decoding and parsing. */
export interface ChartRepoBody {
  body: Buffer;
  bytes: number;
  latency_ms: number;
}

export function statusUrl(host: string, user: string, source: string): string {
  return `http://${host}${statusPath(user, source)}`;
}

function statusPath(user: string, source: string): string {
  return `/chart-repo/api/v2/status?user=${encodeURIComponent(user)}&source=${encodeURIComponent(source)}&include=apps%2Cimages%2Ctasks`;
}

/**
 * `host[:port]` as node:http takes it, parsed once per host (a URL string would be parsed again on every request,
 * hundreds a pass); the error of one that makes no URL.
 */
const targets = new Map<string, { hostname: string; port: number } | Error>();

function targetOf(host: string): { hostname: string; port: number } | Error {
  let t = targets.get(host);
  if (t === undefined) {
    try {
      const url = new URL(`http://${host}`);
      t = { hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) };
    } catch (e) {
      t = e as Error;
    }
    // (a process asks one host; tests a few)
    if (targets.size < 64) targets.set(host, t);
  }
  return t;
}

export function fetchChartRepoBody(req: ChartRepoRequest): Promise<ChartRepoBody> {
  const started = performance.now();
  const cap = req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const agent = req.agent ?? (sharedAgent ??= createChartRepoAgent(4));
  const target = targetOf(req.host);
  const path = statusPath(req.user, req.source);
  return new Promise<ChartRepoBody>((resolve, reject) => {
    let current: ClientRequest | null = null;
    let done = false;
    // every way the exchange ends comes through here once: the answer, our timeout, the caller's signal, the cap,
    // a network error; an early end destroys the connection (it is mid-answer, unfit for reuse)
    const finish = (e: ChartRepoError | null, body?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (e) {
        current?.destroy();
        reject(e);
      } else {
        resolve({ body: body!, bytes: body!.length, latency_ms: performance.now() - started });
      }
    };
    const timer = setTimeout(() => finish(new ChartRepoError('timeout', `timeout after ${req.timeoutMs} ms`)), req.timeoutMs);
    const onAbort = () => finish(new ChartRepoError('aborted', 'aborted by caller'));
    if (req.signal?.aborted) { onAbort(); return; }
    req.signal?.addEventListener('abort', onAbort, { once: true });

    const send = (retry: boolean) => {
      let answered = false;
      let r: ClientRequest;
      try {
        if (target instanceof Error) throw target;
        r = get({ ...target, path, agent, headers: { accept: 'application/json' } });
      } catch (e) {
        finish(networkError(e as NetError)); // a host that makes no URL
        return;
      }
      current = r;
      r.on('response', (res) => { answered = true; readAnswer(res, cap, finish); });
      r.on('error', (e) => {
        if (done) return;
        // a pooled keep-alive connection the server closed while idle: the GET is safe to send once more
        if (retry && !answered && r.reusedSocket && isStaleConnection(e)) { send(false); return; }
        finish(networkError(e));
      });
    };
    send(true);
  });
}

/** A 200's body as one Buffer, cut off past the cap; any other status is an error and its body is not read. */
function readAnswer(res: IncomingMessage, cap: number, finish: (e: ChartRepoError | null, body?: Buffer) => void): void {
  res.on('error', (e) => finish(networkError(e)));
  // closed before its end with no error event: the connection was cut mid-body (when we cut it, finish already ran)
  res.on('close', () => { if (!res.complete) finish(new ChartRepoError('network', `network error: ${CLOSED}`)); });
  if (res.statusCode !== 200) {
    // the body of an error answer is of no use and may itself be slow or huge (redirects are not followed)
    finish(new ChartRepoError('http', `HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ''}`));
    return;
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) {
    finish(new ChartRepoError('too_large', `body too large: ${declared} bytes declared, cap ${cap}`));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > cap) { finish(new ChartRepoError('too_large', `body too large: over ${cap} bytes`)); return; }
    chunks.push(chunk);
  });
  res.on('end', () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
}

/** JSON.parse, failing with a ChartRepoError that quotes the start of what came instead. */
export function parseChartRepoJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const head = text.slice(0, 80).replace(/[^\x20-\x7e]/g, '?');
    throw new ChartRepoError('not_json', `not JSON: ${JSON.stringify(head)}${text.length > 80 ? '...' : ''}`);
  }
}

type NetError = Error & { code?: string; errors?: NetError[] };

/** the error's code; a failed connect to every address of a name (autoSelectFamily) has it on its parts */
const codeOf = (e: NetError): string => e.code ?? e.errors?.[0]?.code ?? '';

/** "socket hang up" (closed before the answer) and "aborted" (closed mid-body) are ECONNRESET too */
function isStaleConnection(e: NetError): boolean {
  const code = codeOf(e);
  return code === 'ECONNRESET' || code === 'EPIPE';
}

const CLOSED = 'connection closed by the server';

const NETWORK_MESSAGES: Record<string, string> = {
  ECONNRESET: 'connection reset',
  EPIPE: CLOSED,
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timeout',
  ERR_INVALID_URL: 'not a valid host',
};

/** node:http's errors, in the short words the component shows */
function networkError(e: NetError): ChartRepoError {
  const code = codeOf(e);
  if (code === 'ECONNREFUSED') return new ChartRepoError('refused', 'connection refused');
  if (e.message === 'socket hang up' || e.message === 'aborted') return new ChartRepoError('network', `network error: ${CLOSED}`);
  if (code.startsWith('HPE_')) return new ChartRepoError('network', 'network error: malformed HTTP answer');
  return new ChartRepoError('network', `network error: ${NETWORK_MESSAGES[code] ?? (code || e.message)}`);
}
