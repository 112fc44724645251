import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { MARKET_DDL } from '../sources/market-ddl.ts';
import { WireQueue } from './pglite-wire-queue.ts';

export interface EmbeddedPostgres {
  /** postgres://… URL on a loopback port, spoken to over the real wire protocol */
  url: string;
  db: PGlite;
  close(): Promise<void>;
}

/** Bump when MARKET_DDL changes so a stale prepared template is not reused. */
const TEMPLATE_VERSION = 'v2';

/**
 * PGlite with the market tables, served on a loopback port (pglite-socket) so the real PostgreSQL
 * collectors talk to it unchanged. initdb costs 7–10 s and ~800 MB, so the empty market database is
 * prepared once as a gzip tarball in the temp dir and loaded from it afterwards (~1.7 s).
 */
export async function startEmbeddedPostgres(opts: { maxConnections?: number; templateDir?: string } = {}):
  Promise<EmbeddedPostgres> {
  const db = await openFromTemplate(opts.templateDir ?? join(tmpdir(), 'market-runtime'));
  // every client's pool shares this one backend; the socket server queues their queries
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: opts.maxConnections ?? 32 });
  // its own queue lets concurrent clients clobber each other's extended-protocol pipelines and stalls after
  // one failure (see WireQueue; upstream electric-sql/pglite#1046, fix proposed in electric-sql/pglite#977).
  // `queryQueue` is a private field of pglite-socket, with no option to pass a queue: package.json pins
  // pglite-socket (and the PGlite it requires) exactly, and this goes once upstream serializes pipelines.
  const internals = server as unknown as { queryQueue?: object };
  if (typeof internals.queryQueue !== 'object') throw new Error('pglite-socket has no queryQueue field any more: see WireQueue');
  internals.queryQueue = new WireQueue(db);
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    db,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

async function openFromTemplate(dir: string): Promise<PGlite> {
  const file = join(dir, `pglite-market-${TEMPLATE_VERSION}.tar.gz`);
  if (existsSync(file)) {
    try {
      const blob = new Blob([await readFile(file)]);
      return await PGlite.create({ loadDataDir: blob });
    } catch {
      // a damaged template is rebuilt below
    }
  }
  const db = await PGlite.create();
  await db.exec(MARKET_DDL);
  const dump = await db.dumpDataDir('gzip');
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
  await rename(tmp, file); // atomic: parallel test files never read half a template
  return db;
}
