import { readFileSync } from 'node:fs';

/**
 * node's flags as the image and `npm run start:prod` start the sidecar (test/deploy/packaging.test.ts holds the
 * two equal), read from package.json so that no bench measures the sidecar started another way.
 */
export const PRODUCTION_FLAGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts['start:prod'].split(/\s+/);
  if (words[0] !== 'node') throw new Error(`start:prod does not start node: ${pkg.scripts['start:prod']}`);
  return words.slice(1).filter((w) => w.startsWith('--'));
})();
