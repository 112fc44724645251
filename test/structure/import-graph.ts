import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { sourceFiles } from '../helpers/source-files.ts';

/** Relative import and export-from specifiers of one module, type-only ones included (a circle of types is still a circle). */
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s*['"](\.[^'"]+)['"]|(?:^|[\s;(])import\s*\(?\s*['"](\.[^'"]+)['"]/g;

/** Every module under `root` and the modules under `root` it imports (comments stripped first). */
export function importGraph(root: string): Map<string, string[]> {
  const files = sourceFiles(resolve(root));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    const deps = new Set<string>();
    for (const m of code.matchAll(SPECIFIER)) {
      const target = resolve(dirname(file), m[1] ?? m[2]!);
      if (known.has(target)) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Each import circle once, as a path of files relative to `root` (first file repeated at the end). */
export function importCircles(root: string): string[][] {
  const graph = importGraph(root);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const seen = new Set<string>();
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') {
        const circle = stack.slice(stack.indexOf(dep)).map((f) => relative(resolve(root), f));
        const key = [...circle].sort().join(' ');
        if (!seen.has(key)) { seen.add(key); circles.push([...circle, relative(resolve(root), dep)]); }
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return circles;
}
