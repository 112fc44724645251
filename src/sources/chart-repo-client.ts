/**
 * Chart Repo HTTP client: I/O only. One GET of the status endpoint for one (user, source) pair, bounded in
 * time (the whole exchange, body included) and in size (the body is streamed and cut off past the cap).
 * Answers the parsed JSON, unvalidated: collect/chart-repo.ts decides what of it fits.
 */

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

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
}

export interface ChartRepoResponse {
  json: unknown;
  bytes: number;
  latency_ms: number;
}

/** The answer's text, not parsed yet: a caller that has seen the same content can skip the parse. */
export interface ChartRepoBody {
  text: string;
  bytes: number;
  latency_ms: number;
}

export function statusUrl(host: string, user: string, source: string): string {
  const q = new URLSearchParams({ user, source, include: 'apps,images,tasks' });
  return `http://${host}/chart-repo/api/v2/status?${q}`;
}

export async function fetchChartRepoStatus(req: ChartRepoRequest): Promise<ChartRepoResponse> {
  const { text, bytes, latency_ms } = await fetchChartRepoBody(req);
  return { json: parseChartRepoJson(text), bytes, latency_ms };
}

export async function fetchChartRepoBody(req: ChartRepoRequest): Promise<ChartRepoBody> {
  const started = performance.now();
  const cap = req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // one controller for every way the request ends early: our timeout, the caller's signal, the size cap
  const ctl = new AbortController();
  let ended: ChartRepoError | null = null;
  const stop = (e: ChartRepoError) => { ended ??= e; ctl.abort(e); };
  const timer = setTimeout(() => stop(new ChartRepoError('timeout', `timeout after ${req.timeoutMs} ms`)), req.timeoutMs);
  const onAbort = () => stop(new ChartRepoError('aborted', 'aborted by caller'));
  if (req.signal?.aborted) onAbort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const url = statusUrl(req.host, req.user, req.source);
    const init: RequestInit = { signal: ctl.signal, redirect: 'manual', headers: { accept: 'application/json' } };
    let res: Response;
    try {
      res = await fetch(url, init).catch((e: unknown) => {
        // a pooled keep-alive connection the server already closed: the GET is safe to send once more
        if (ended || !isStaleConnection(e)) throw e;
        return fetch(url, init);
      });
    } catch (e) {
      throw ended ?? connectError(e);
    }
    if (res.status !== 200) {
      // the body of an error answer is of no use and may itself be slow or huge
      await res.body?.cancel().catch(() => {});
      throw new ChartRepoError('http', `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const body = await readCapped(res, cap, stop).catch((e: unknown) => { throw ended ?? connectError(e); });
    return { text: body.toString('utf8'), bytes: body.length, latency_ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/** Streams the body and stops reading (and aborts the connection) once it passes the cap. */
async function readCapped(res: Response, cap: number, stop: (e: ChartRepoError) => void): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > cap) {
    stop(new ChartRepoError('too_large', `body too large: ${declared} bytes declared, cap ${cap}`));
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body === null) return Buffer.alloc(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      const e = new ChartRepoError('too_large', `body too large: over ${cap} bytes`);
      stop(e);
      await reader.cancel().catch(() => {});
      throw e;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
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

const causeOf = (e: unknown) => (e as { cause?: { code?: string; message?: string } } | null)?.cause;

function isStaleConnection(e: unknown): boolean {
  const code = causeOf(e)?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

const NETWORK_MESSAGES: Record<string, string> = {
  UND_ERR_SOCKET: 'connection closed by the server',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
};

/** undici reports every connection failure as "fetch failed"; the cause has the useful code. */
function connectError(e: unknown): ChartRepoError {
  if (e instanceof ChartRepoError) return e;
  const cause = causeOf(e);
  const code = cause?.code ?? '';
  if (code === 'ECONNREFUSED') return new ChartRepoError('refused', 'connection refused');
  const detail = NETWORK_MESSAGES[code] ?? (code || cause?.message || (e instanceof Error ? e.message : String(e)));
  return new ChartRepoError('network', `network error: ${detail}`);
}
