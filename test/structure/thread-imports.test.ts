import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Value imports that load at start: `import … from`, `export … from`, `import '…'` (not `import type`, not `import()`). */
const STATIC = /(?:^|[\s;])(?:import|export)\s(?!type\s)[^'"]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;

/** The packages a module loads before it runs, through every local module it loads. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    for (const m of code.matchAll(STATIC)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  walk(resolve(ROOT, entry));
  return packages;
}

/**
 * Each thread loads only what it uses (issue 20: eight isolates share a 160 MiB budget at 1,000 apps; a
 * library is 1-4 MiB of RSS in every thread that loads it). A new import that breaks one of these is a
 * memory cost to weigh, not a style point.
 */
describe('what each thread loads at start', () => {
  it('collectors: their source client and valibot; no metrics, logger, HTTP or pool library', () => {
    for (const c of ['app-flow', 'chart-repo', 'components', 'tasks', 'nats']) {
      const loaded = new Set([...packagesLoadedBy('workers/collector.ts'), ...packagesLoadedBy(`src/collect/collectors/${c}.ts`)]);
      // what it must load, so the walk is known to have reached its imports (an empty set contains nothing)
      const client = c === 'nats' ? '@nats-io/transport-node' : 'postgres';
      expect([...loaded], c).toEqual(expect.arrayContaining(['valibot', client]));
      for (const heavy of ['prom-client', 'pino', 'hono', '@hono/node-server', 'piscina']) expect(loaded, `${c} loads ${heavy}`).not.toContain(heavy);
    }
  });

  it('the store: no metrics library (it sends numbers), no logger, no HTTP', () => {
    const loaded = packagesLoadedBy('workers/store.ts');
    for (const heavy of ['prom-client', 'pino', 'hono', '@hono/node-server', 'postgres']) expect(loaded).not.toContain(heavy);
    expect(loaded).toContain('valibot');
  });

  it('the HTTP thread: hono and prom-client, but pino only on its first log line', () => {
    const loaded = packagesLoadedBy('workers/http.ts');
    expect([...loaded]).toEqual(expect.arrayContaining(['hono', '@hono/node-server', 'prom-client']));
    for (const heavy of ['pino', 'postgres', '@valibot/to-json-schema']) expect(loaded).not.toContain(heavy);
  });
});
