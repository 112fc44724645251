import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startEmbeddedPostgres } from '../../src/demo/embedded-postgres.ts';
import { MARKET_DDL } from '../../src/sources/market-ddl.ts';
import { PG_TIME_TYPES } from '../../src/sources/pg-time.ts';
import { LIVENESS_MS, sleep } from './liveness.ts';
import { check, CI, missingInCI } from './services.ts';

/** A market database for one test file, and a client to write fixtures with. */
export interface TestDb {
  url: string;
  kind: 'pglite' | 'postgres';
  sql: postgres.Sql;
  /** empties every market table between tests */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

const MARKET_TABLES = [
  'task_records', 'user_application_states', 'user_applications', 'applications', 'market_sources',
] as const;

/** beforeAll timeout: building the PGlite template once takes ~10 s, loading it ~2 s, on an idle machine */
export const DB_SETUP_TIMEOUT_MS = 3 * LIVENESS_MS;

/**
 * By default an embedded PGlite served over the wire protocol. With MARKET_PG_URL (CI), a fresh scratch
 * database on that server with our DDL, dropped by close(). In CI without MARKET_PG_URL this fails
 * (test/helpers/services.ts): CI runs the PostgreSQL suites against real PostgreSQL.
 */
export async function startTestDb(): Promise<TestDb> {
  const serverUrl = process.env.MARKET_PG_URL;
  if (serverUrl) return scratchDatabase(serverUrl);
  if (CI) throw missingInCI(check('postgres'));
  const emb = await startEmbeddedPostgres();
  const sql = fixtureClient(emb.url);
  return {
    url: emb.url,
    kind: 'pglite',
    sql,
    truncate: () => truncate(sql),
    async close() {
      await sql.end({ timeout: 1 });
      await emb.close();
    },
  };
}

function fixtureClient(url: string): postgres.Sql {
  return postgres(url, { max: 1, prepare: false, onnotice: () => {}, types: PG_TIME_TYPES });
}

async function truncate(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`TRUNCATE ${MARKET_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

async function scratchDatabase(serverUrl: string): Promise<TestDb> {
  const name = `mr_test_${randomBytes(6).toString('hex')}`;
  const admin = fixtureClient(serverUrl);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const sql = fixtureClient(url);
  try {
    await sql.unsafe(MARKET_DDL).simple();
  } catch (err) {
    await sql.end({ timeout: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
    throw err;
  }
  return {
    url,
    kind: 'postgres',
    sql,
    truncate: () => truncate(sql),
    async close() {
      await sql.end({ timeout: 1 });
      // FORCE: a collector pool a failing test left open must not keep the scratch database alive
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * A test file's database: started once, emptied before each test; whatever a test registers in `opened`
 * (collectors, ports) is closed after it. Read `env.db` inside tests (it exists once beforeAll ran).
 */
export function useTestDb(): { readonly db: TestDb; opened: Array<{ close?(): unknown }> } {
  let db: TestDb | undefined;
  const opened: Array<{ close?(): unknown }> = [];
  beforeAll(async () => { db = await startTestDb(); }, DB_SETUP_TIMEOUT_MS);
  afterAll(() => db?.close());
  beforeEach(() => db!.truncate());
  afterEach(async () => { await Promise.all(opened.splice(0).map((c) => c.close?.())); });
  return { get db() { return db!; }, opened };
}

/**
 * Waits until every transaction that holds a transaction id older than now has ended (a clear error after 10 s).
 * A collector's watermark is its read's snapshot xmin, and on a shared server that horizon is cluster-wide:
 * another test file's open write transaction, in another database, holds it back, and the next pass then
 * re-reads rows that did not change (right, but not the reads a test of the incremental path expects).
 * Another file's transactions are short: this waits milliseconds. (PGlite has no other sessions.)
 */
export async function quietHorizon(sql: postgres.Sql): Promise<void> {
  const [{ now }] = await sql<[{ now: string }]>`SELECT pg_current_xact_id()::text AS now`;
  const deadline = Date.now() + LIVENESS_MS / 3;
  for (;;) {
    const [{ quiet }] = await sql<[{ quiet: boolean }]>`
      SELECT pg_snapshot_xmin(pg_current_snapshot())::text::numeric > ${now}::numeric AS quiet`;
    if (quiet) return;
    if (Date.now() > deadline) throw new Error(`a transaction older than xid ${now} is still open on the test server after ${LIVENESS_MS / 3} ms (another session holds the xmin horizon)`);
    await sleep(20);
  }
}
