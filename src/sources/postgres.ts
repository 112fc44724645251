import { connect, type Socket } from 'node:net';
import postgres from 'postgres';
import { stripUndefined } from '../strip-undefined.ts';
import { PG_TIME_TYPES } from './pg-time.ts';

/** One result row, as postgres.js parses it (timestamptz -> Date, jsonb -> value, int8/numeric -> string). */
type Row = Record<string, unknown>;

export interface PgOptions {
  databaseUrl: string;
  /** per statement; also the server's statement_timeout */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** an idle connection is closed after this */
  idleTimeoutMs?: number;
  /** connections in the pool; a collector runs one pass at a time, so 2 is plenty */
  maxConnections?: number;
}

export interface PgSource {
  /**
   * Runs the SELECT statements as ONE read-only, repeatable-read transaction (one consistent snapshot)
   * and answers their rows, in order. Rejects with a password-free error; when `signal` aborts, the pool
   * is ended (open queries fail at once) and a new one is made for the next read.
   */
  read(signal: AbortSignal, selects: readonly string[]): Promise<Row[][]>;
  close(): Promise<void>;
}

const PG_DEFAULTS = {
  statementTimeoutMs: 5000,
  connectTimeoutMs: 5000,
  idleTimeoutMs: 60_000,
  maxConnections: 2,
} as const;

/** Every spelling of the URL's password that could end up in a message: as written, decoded, normalized. */
function secretsOf(url: string): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined): void => {
    if (!s) return;
    out.add(s);
    try {
      out.add(decodeURIComponent(s));
    } catch {
      // not valid percent-encoding: the raw form is enough
    }
  };
  add(/^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:(.*)@[^@]*$/i.exec(url)?.[1]);
  try {
    add(new URL(url).password);
  } catch {
    // not a URL: the pattern above and the generic userinfo pattern below still apply
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Removes the DATABASE_URL password (and any user:password@ in a URL) from a message. */
export function scrubSecret(message: string, databaseUrl: string): string {
  let out = message;
  for (const s of secretsOf(databaseUrl)) out = out.split(s).join('***');
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@');
}

/** A new Error carrying only the scrubbed message (and code): the original may hold the URL in fields. */
export function scrubError(err: unknown, databaseUrl: string): Error {
  const e = err as { message?: unknown; code?: unknown } | null;
  const raw = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const clean = new Error(scrubSecret(code && !raw.includes(code) ? `${raw} (${code})` : raw, databaseUrl));
  if (code) (clean as Error & { code?: string }).code = code;
  return clean;
}

/** The parts of postgres.js's parsed options a socket is opened from. */
interface SocketTarget { host: string[]; port: number[]; path?: string | false }

/**
 * A pool whose every socket we hold, so that ending it ends them all. postgres.js alone cannot promise that:
 * it reconnects a connection on a timer that ending the pool does not clear, so a connection could open
 * after the end, belong to no pool and stay until the idle timeout (seen as one extra server connection per
 * deadline abort during a database stall). Here an ended pool opens no socket and destroys those it has.
 */
class OwnedPool {
  readonly sql: postgres.Sql;
  private readonly sockets = new Set<Socket>();
  private ended = false;
  private next = 0;

  constructor(url: string, options: postgres.Options<Record<string, postgres.PostgresType>>) {
    this.sql = postgres(url, { ...options, socket: (t: SocketTarget) => this.open(t) } as typeof options);
  }

  /** Returned still connecting: postgres.js starts its connect timeout once it has the socket. */
  private open(t: SocketTarget): Socket {
    if (this.ended) throw new Error('postgres pool ended');
    // several hosts in the URL: each new connection tries the next, as postgres.js does without a socket option
    const i = this.next++ % Math.max(1, t.host.length);
    const socket = t.path ? connect(t.path) : connect(t.port[i] ?? t.port[0]!, t.host[i]);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  async end(): Promise<void> {
    this.ended = true;
    // timeout 0: open queries fail at once; connections say goodbye (Terminate) where they can
    await this.sql.end({ timeout: 0 }).catch(() => {});
    for (const socket of this.sockets) socket.destroy();
  }
}

export function createPgSource(opts: PgOptions): PgSource {
  const o: Required<PgOptions> = { ...PG_DEFAULTS, ...stripUndefined(opts), databaseUrl: opts.databaseUrl };
  let current: OwnedPool | null = null;

  const pool = (): postgres.Sql => {
    current ??= new OwnedPool(o.databaseUrl, {
      max: o.maxConnections,
      connect_timeout: Math.max(1, Math.ceil(o.connectTimeoutMs / 1000)),
      idle_timeout: Math.max(1, Math.ceil(o.idleTimeoutMs / 1000)),
      // PGlite (and pgbouncer in transaction mode) share backends between connections: named prepared
      // statements would collide there
      prepare: false,
      // no array-type lookup on connect: postgres.js runs it un-awaited, so a connection killed during it
      // (pg_terminate_backend) is an unhandled rejection that kills the collector thread; we read no arrays
      fetch_types: false,
      // Go's zero time (year 1) read as year 1, not 2001
      types: PG_TIME_TYPES,
      onnotice: () => {},
      // read-only intent at session level too; PGlite ignores startup parameters, hence SET LOCAL below
      connection: {
        application_name: 'market-runtime',
        default_transaction_read_only: 'on',
        statement_timeout: o.statementTimeoutMs,
        // times are read as ISO text (pg-time.ts): a database set to another DateStyle ('SQL, DMY') would
        // turn every time invalid and every row a misfit (lib/pq forces ISO too; pgx reads binary)
        DateStyle: 'ISO, MDY',
      } as Record<string, string | number>,
    });
    return current.sql;
  };

  const endPool = async (): Promise<void> => {
    const p = current;
    current = null;
    if (p) await p.end();
  };

  return {
    async read(signal: AbortSignal, selects: readonly string[]): Promise<Row[][]> {
      if (signal.aborted) throw new Error('postgres read aborted before it started');
      const s = pool();
      let aborted = false;
      const onAbort = (): void => {
        aborted = true;
        // PGlite ignores CancelRequest, so ending the pool is the one cancel that works everywhere
        void endPool();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        // One simple-protocol Query message: its statements run as one implicit transaction, rolled back
        // on error. Not sql.begin(): PGlite serves every connection from one backend and interleaves
        // extended-protocol messages of different clients, which breaks a BEGIN ... COMMIT spread over
        // several messages; a single message is executed whole. No parameters, so callers inline only
        // integers they computed.
        // (jit off: our reads are short; a plan whose estimate passes jit_above_cost — app_flow's changes read
        // over a large table — spent more time compiling than running: 423 of 752 ms at 200,000 rows)
        const text = `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
          SET LOCAL statement_timeout = ${Math.floor(o.statementTimeoutMs)};
          SET LOCAL jit = off;
          SET LOCAL DateStyle = 'ISO, MDY';
          ${selects.map((q) => q.trim().replace(/;+$/, '')).join(';\n')}`;
        const results = await s.unsafe(text).simple() as unknown as Row[][];
        // postgres.js gives each statement that returns rows its own result; the SETs share the first. That shape
        // is postgres.js's internals, not its documented API (its README shows .simple() but not what a
        // multi-statement answer looks like: src/connection.js starts a result at each RowDescription after a
        // completed command), read here through the cast above: postgres is pinned exactly in package.json
        return results.slice(-selects.length).map((r) => [...r]);
      } catch (err) {
        if (aborted) throw new Error('postgres read aborted: deadline passed');
        throw scrubError(err, o.databaseUrl);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    close: endPool,
  };
}
