import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/demo/embedded-postgres.ts';

let pg: EmbeddedPostgres;

beforeAll(async () => {
  pg = await startEmbeddedPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.close();
});

describe('embedded PostgreSQL over the wire', () => {
  it('has the market tables', async () => {
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const tables = await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`;
    expect(tables.map((t) => t.table_name)).toEqual(
      ['applications', 'market_sources', 'task_records', 'user_application_states', 'user_applications']);
    await sql.end();
  });

  it('serves concurrent clients with parameterized queries and transactions without mixing them up', async () => {
    // a writer in transactions and three readers, like the workload and the collectors
    const clients = Array.from({ length: 4 }, () => postgres(pg.url, { max: 2, onnotice: () => {} }));
    const [writer, ...readers] = clients;
    const writes = (async () => {
      for (let i = 0; i < 40; i++) {
        await writer.begin(async (tx) => {
          await tx`INSERT INTO market_sources (source_id) VALUES (${`wire-${i}`})`;
          await tx`UPDATE market_sources SET is_active = ${i % 2 === 0} WHERE source_id = ${`wire-${i}`}`;
        });
      }
    })();
    const reads = readers.map(async (sql, r) => {
      for (let i = 0; i < 60; i++) {
        const [row] = await sql`SELECT ${r * 1000 + i}::int AS n, ${`r${r}`}::text AS who`;
        expect(row).toEqual({ n: r * 1000 + i, who: `r${r}` });
      }
    });
    await Promise.all([writes, ...reads]);
    const [{ n }] = await readers[0]`SELECT count(*)::int AS n FROM market_sources WHERE source_id LIKE 'wire-%'`;
    expect(n).toBe(40);
    await Promise.all(clients.map((c) => c.end({ timeout: 2 })));
  }, 30_000);

  it('keeps serving after a client fails a query and after one disconnects mid-transaction', async () => {
    const a = postgres(pg.url, { max: 1, onnotice: () => {} });
    await expect(a`SELECT * FROM no_such_table`).rejects.toThrow(/no_such_table/);
    const b = postgres(pg.url, { max: 1, onnotice: () => {} });
    const open = b.begin(async (tx) => {
      await tx`INSERT INTO market_sources (source_id) VALUES ('abandoned')`;
      await b.end({ timeout: 0 }); // the client goes away inside its transaction
    }).catch(() => 'ended');
    await open;
    const [{ n }] = await a`SELECT count(*)::int AS n FROM market_sources WHERE source_id = 'abandoned'`;
    expect(n).toBe(0);
    await a.end();
  }, 30_000);
});
