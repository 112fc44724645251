import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** README.md is for users (run, configure, deploy); depth goes to docs/ and the README links it. */
describe('README.md', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('stays at most 250 lines', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(250);
  });

  it('gives the two commands a newcomer runs', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
