import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { loadDemo } from '../../src/main.ts';
import { sourceFiles } from '../helpers/source-files.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** Every package `npm ci --omit=dev` installs, from the lock file (npm omits those flagged dev). */
function productionPackages(): string[] {
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && !p.dev)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

/** The modules below `dir`, as paths from the repository's root. */
const sources = (dir: string) => sourceFiles(join(root, dir)).map((f) => relative(root, f));

describe('production install (npm ci --omit=dev)', () => {
  it('brings no PGlite, no tsx and no esbuild: the demo and running from source are development tools', () => {
    const prod = productionPackages();
    expect(prod).toContain('postgres');
    expect(prod).toContain('hono');
    expect(prod.filter((p) => /pglite|^tsx$|esbuild/.test(p))).toEqual([]);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const dev of ['@electric-sql/pglite', '@electric-sql/pglite-socket', 'tsx']) {
      expect(pkg.dependencies[dev]).toBeUndefined();
      expect(pkg.devDependencies[dev]).toBeDefined();
    }
  });

  it('the image installs that way and ships no demo code', () => {
    const df = read('Dockerfile');
    expect(df).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(df).toMatch(/npm run build && rm -rf dist\/src\/demo/);
  });

  it('no code the sidecar runs imports the demo statically: main.ts loads it only when the demo runs', () => {
    const runtime = [...sources('src').filter((f) => !f.startsWith(join('src', 'demo'))), ...sources('workers'), 'main.ts'];
    const importsDemo = (text: string) => /(?:from|import)\s*\(?\s*['"][^'"]*\/demo\//.test(text);
    const offenders = runtime.filter((f) => importsDemo(read(f)));
    expect(offenders).toEqual([join('src', 'main.ts')]);
    // …and there only inside loadDemo, as a dynamic import
    expect(read('src/main.ts').match(/['"][^'"]*\/demo\/[^'"]*['"]/g)).toEqual(["'./demo/market.ts'", "'./demo/market.ts'"]);
    expect(read('src/main.ts')).not.toMatch(/^import[^;]*\/demo\//m);
  });

  it('a production install asked for the demo (no DATABASE_URL) gets a configuration error naming DATABASE_URL', async () => {
    const missing = Object.assign(new Error("Cannot find package '@electric-sql/pglite' imported from dist/src/demo/embedded-postgres.js"),
      { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await loadDemo(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/DATABASE_URL/);
    expect((err as Error).message).toMatch(/npm ci --omit=dev/);
    expect((err as Error).message).not.toMatch(/Cannot find/);
  });

  it('any other failure to load the demo is not disguised as a configuration error', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(loadDemo(() => Promise.reject(broken))).rejects.toBe(broken);
  });
});
