import { createServer, type AddressInfo, type Socket } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readComponentStats, readTasks } from '../../src/sources/market-queries.ts';
import { createPgSource, scrubError, scrubSecret, type PgSource } from '../../src/sources/postgres.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { insertTasks } from '../helpers/market-fixtures.ts';
import { eventually } from '../helpers/sidecar.ts';
import { DB_SETUP_TIMEOUT_MS, startTestDb, type TestDb } from '../helpers/pg.ts';

const never = (): AbortSignal => new AbortController().signal;

describe('scrubbing the DATABASE_URL password', () => {
  const url = 'postgres://market:p%40ss:w0rd@db.internal:5432/market';

  it('removes the password, raw and URL-encoded, and any user:password@ in URLs', () => {
    expect(scrubSecret('auth failed for p@ss:w0rd and p%40ss:w0rd', url)).toBe('auth failed for *** and ***');
    expect(scrubSecret('cannot reach postgres://someone:other@host/db', url)).toBe('cannot reach postgres://someone:***@host/db');
    expect(scrubSecret('nothing secret here', url)).toBe('nothing secret here');
  });

  it('makes a new Error with only the scrubbed message and the code', () => {
    const original = Object.assign(new Error(`could not connect with ${url}`), { code: 'ECONNREFUSED', options: { pass: 'p@ss:w0rd' } });
    const clean = scrubError(original, url);
    expect(clean.message).toBe('could not connect with postgres://market:***@db.internal:5432/market (ECONNREFUSED)');
    expect((clean as Error & { code?: string }).code).toBe('ECONNREFUSED');
    expect(JSON.stringify({ ...clean, message: clean.message, stack: clean.stack })).not.toContain('w0rd');
  });
});

describe('PgSource against a database', () => {
  let db: TestDb;
  let pg: PgSource;

  beforeAll(async () => {
    db = await startTestDb();
    pg = createPgSource({ databaseUrl: db.url, statementTimeoutMs: 300 });
  }, DB_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await pg?.close();
    await db?.close();
  });
  beforeEach(() => db.truncate());

  it('reads inside a READ ONLY transaction: a write is refused', async () => {
    await expect(pg.read(never(), [`INSERT INTO market_sources (source_id) VALUES ('x') RETURNING source_id`]))
      .rejects.toThrow(/read-only transaction/);
    expect(await db.sql`SELECT count(*)::int AS n FROM market_sources`).toEqual([{ n: 0 }]);
  });

  it('sets the per-statement deadline on the server', async () => {
    const [[timeout], [readOnly]] = await pg.read(never(), ['SHOW statement_timeout', 'SHOW transaction_read_only']);
    expect(timeout).toEqual({ statement_timeout: '300ms' });
    expect(readOnly).toEqual({ transaction_read_only: 'on' });
  });

  it('reads times as written when the database is set to another DateStyle', async () => {
    const [{ name }] = await db.sql<{ name: string }[]>`SELECT current_database() AS name`;
    // for new connections to a server, and for the one backend PGlite shares between clients
    await db.sql.unsafe(`ALTER DATABASE "${name}" SET DateStyle = 'SQL, DMY'`);
    await db.sql.unsafe(`SET DateStyle = 'SQL, DMY'`);
    const fresh = createPgSource({ databaseUrl: db.url });
    try {
      const [[row]] = await fresh.read(never(), [`SELECT '2026-12-06 10:42:07.5+00'::timestamptz AS at, current_setting('DateStyle') AS style`]);
      expect(row.style).toBe('ISO, MDY');
      expect((row.at as Date).toISOString()).toBe('2026-12-06T10:42:07.500Z');
    } finally {
      await fresh.close();
      await db.sql.unsafe(`ALTER DATABASE "${name}" RESET DateStyle`);
      await db.sql.unsafe(`RESET DateStyle`);
    }
  });

  it('reads stay consistent while another client runs multi-statement transactions (PGlite shares one backend)', async () => {
    const writer = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
    let stop = false;
    let commits = 0;
    const writing = (async () => {
      for (let i = 0; !stop && i < 500; i++) {
        await writer.begin(async (tx) => {
          await tx`INSERT INTO market_sources (source_id) VALUES (${`s${i}`})`;
          await tx`INSERT INTO applications (source_id, app_id, app_name) VALUES (${`s${i}`}, 'a', 'a')`;
        });
        commits += 1;
      }
    })();
    try {
      for (let i = 0; i < 30; i++) {
        const [[sources], [apps]] = await pg.read(never(), [
          'SELECT count(*)::int AS n FROM market_sources', 'SELECT count(*)::int AS n FROM applications',
        ]);
        // one snapshot: never a source without its catalog row, whatever the writer is doing
        expect(sources).toEqual(apps);
      }
    } finally {
      stop = true;
      await writing;
      await writer.end();
    }
    expect(commits).toBeGreaterThan(0);
    const [[sources]] = await pg.read(never(), ['SELECT count(*)::int AS n FROM market_sources']);
    expect(sources).toEqual({ n: commits });
  });

  it('an already aborted signal fails before touching the database', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(pg.read(ac.signal, ['SELECT 1'])).rejects.toThrow(/aborted/);
  });

  it('an abort while the server does not answer ends the read at once', async () => {
    // a server that accepts the connection and never says a word: only the abort can end this read
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    // a connect timeout far past the liveness bound: only the abort can end the read within it
    const stuck = createPgSource({ databaseUrl: `postgres://market:pw@127.0.0.1:${port}/market`, connectTimeoutMs: 4 * LIVENESS_MS });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    await expect(stuck.read(ac.signal, ['SELECT 1'])).rejects.toThrow('postgres read aborted: deadline passed');
    expect(Date.now() - started).toBeLessThan(LIVENESS_MS);
    await stuck.close();
    silent.close();
  });

  it('a deadline that falls while the pool reconnects leaves no connection open', async () => {
    // postgres.js reconnects a connection the server closed during start-up, on a timer that ending the pool
    // did not clear: the connection it opened then belonged to no pool and stayed open until the connect timeout
    for (let round = 0; round < 6; round++) {
      const open = new Set<Socket>();
      const ac = new AbortController();
      let first = true;
      const server = createServer((s) => {
        open.add(s);
        s.on('close', () => open.delete(s));
        s.on('error', () => {});
        s.resume();
        // the first connection is closed at once; the deadline passes right after it is gone (in the same turn
        // of the event loop or the next: where the timer stands then differs)
        if (first) {
          first = false;
          const abort = () => ac.abort();
          s.on('close', () => [abort, () => setImmediate(abort), () => queueMicrotask(abort)][round % 3]!());
          s.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const source = createPgSource({ databaseUrl: `postgres://market:pw@127.0.0.1:${port}/market`, connectTimeoutMs: 4 * LIVENESS_MS });
      await expect(source.read(ac.signal, ['SELECT 1'])).rejects.toThrow('postgres read aborted: deadline passed');
      // every connection the read opened is closed (seen by the server within the liveness bound)
      await eventually(async () => expect(open.size, `round ${round}`).toBe(0));
      await source.close();
      server.close();
    }
  });

  it('after an abort, the next read gets a fresh pool and works', async () => {
    const source = createPgSource({ databaseUrl: db.url });
    const ac = new AbortController();
    const first = source.read(ac.signal, ['SELECT 1 AS one']);
    ac.abort();
    await expect(first).rejects.toThrow('postgres read aborted: deadline passed');
    expect(await source.read(never(), ['SELECT 1 AS one'])).toEqual([[{ one: 1 }]]);
    await source.close();
  });

  it('an unreachable database rejects with a message free of the password', async () => {
    const url = 'postgres://market:Sup3r-Secret@127.0.0.1:1/market';
    const down = createPgSource({ databaseUrl: url, connectTimeoutMs: 1000 });
    const err = await down.read(never(), ['SELECT 1']).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect((err as Error).message).not.toContain('Sup3r-Secret');
    await down.close();
  });

  it('a row that does not fit the schema is dropped and counted, not thrown', async () => {
    await insertTasks(db.sql, [
      { task_id: 'ok', type: 1, status: 1, app_name: 'wiki', created_at: '2026-01-01T00:00:00Z' },
      { task_id: 'x'.repeat(300), type: 1, status: 3, app_name: 'wiki', created_at: '2026-01-01T00:00:00Z' },
    ]);
    const { rows, dropped } = await readTasks(pg, never(), 10);
    expect(rows.map((r) => r.task_id)).toEqual(['ok']);
    expect(dropped).toBe(1);
  });

  it('component stats come back as numbers, with the server version and a latency', async () => {
    await insertTasks(db.sql, [
      { task_id: 'p', type: 1, status: 1, app_name: 'wiki', created_at: '2026-01-01T00:00:00Z' },
      { task_id: 'r', type: 1, status: 2, app_name: 'blog', created_at: '2026-01-02T00:00:00Z' },
    ]);
    const { stats, dropped } = await readComponentStats(pg, never());
    expect(dropped).toBe(0);
    expect(stats.tasks).toEqual({ pending: 1, running: 1, oldest_pending_at: new Date('2026-01-01T00:00:00Z') });
    expect(stats.server_version).toMatch(/^\d+/);
    expect(stats.latency_ms).toBeGreaterThanOrEqual(0);
    expect(stats).toMatchObject({ render: [], sources: [], cache: [] });
  });
});
