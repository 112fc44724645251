// Scratch market database for the production-start check, using only what a production install has
// (the `postgres` client and the built DDL). Usage (from the production copy):
//   node prod-db.mjs create <admin-url> <db-name> <ddl-module-path>   -> creates db, tables, a few rows
//   node prod-db.mjs drop   <admin-url> <db-name>
import postgres from 'postgres';

const [cmd, adminUrl, name, ddlPath] = process.argv.slice(2);
if (!/^[a-z0-9_]+$/.test(name ?? '')) throw new Error('db name must be [a-z0-9_]+');
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
try {
  if (cmd === 'drop') {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else if (cmd === 'create') {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      const { MARKET_DDL } = await import(ddlPath);
      await db.unsafe(MARKET_DDL);
      await db.unsafe(`INSERT INTO market_sources (source_id, source_type) VALUES ('market.olares', 'remote')`);
      await db.unsafe(`INSERT INTO task_records (task_id, type, status, app_name, user_account, op_id, metadata, created_at, updated_at)
        VALUES ('ci-task-1', 1, 2, 'firefox', 'alice', 'op1', '{}', now(), now()),
               ('ci-task-2', 4, 3, 'gitea', 'bob', 'op2', '{}', now() - interval '1 minute', now())`);
    } finally {
      await db.end();
    }
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
} finally {
  await admin.end();
}
