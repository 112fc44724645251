import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every module below `dir` (TypeScript and JavaScript; declaration files are not modules), as paths under `dir`. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}
