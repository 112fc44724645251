import { readFileSync } from 'node:fs';

/**
 * node's flags as the image and `npm run start:prod` start the sidecar (test/deploy/packaging.test.ts holds the
 * two equal), read from package.json so that no bench measures the sidecar started another way.
 */
export const PRODUCTION_FLAGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  // `exec`: npm's shell gives way to node, so a SIGTERM sent to npm reaches the sidecar
  const words = pkg.scripts['start:prod'].replace(/^exec /, '').split(/\s+/);
  if (words[0] !== 'node') throw new Error(`start:prod does not start node: ${pkg.scripts['start:prod']}`);
  return words.slice(1).filter((w) => w.startsWith('--'));
})();
