import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCircles, importGraph } from './import-graph.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;

describe('imports in src/', () => {
  it('form no circle (a shared type goes into a small file of its own)', () => {
    const circles = importCircles(SRC).map((c) => c.join(' -> '));
    expect(circles).toEqual([]);
  });

  it('are all seen by the check (the graph is the real one, not an empty one)', () => {
    const graph = importGraph(SRC);
    expect(graph.size).toBeGreaterThan(50);
    const app = [...graph].find(([file]) => file.endsWith('/http/app.ts'))![1].map((f) => f.slice(SRC.length));
    expect(app).toEqual(expect.arrayContaining(['http/events-route.ts', 'http/current-version.ts', 'model/index.ts']));
  });
});

describe('the circle check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-circles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (files: Record<string, string>) => {
    for (const [name, code] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), code);
    }
  };

  it('finds a circle through type-only, multi-line, re-export and dynamic imports, and ignores comments', () => {
    write({
      'a.ts': "import type {\n  B,\n} from './sub/b.ts';\nexport const a = 1;\n",
      'sub/b.ts': "export * from '../c.ts';\nexport type B = number;\n",
      'c.ts': "// import { a } from './d.ts';\n/* import './d.ts'; */\nexport const c = () => import('./a.ts');\n",
      'd.ts': "import { a } from './a.ts';\nexport const d = a;\n",
    });
    expect(importCircles(dir)).toEqual([['a.ts', 'sub/b.ts', 'c.ts', 'a.ts']]);
  });
});
