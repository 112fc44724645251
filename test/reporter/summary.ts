import { mkdirSync, writeFileSync } from 'node:fs';
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';
import type { SerializedError } from 'vitest';

const OUTPUT_DIR = new URL('../../test-output/', import.meta.url).pathname;

/**
 * Ends `npm test` (after vitest's own report) with one plain line, `N passed, N failed, N skipped`, and the
 * skipped suites with their reasons (test/helpers/services.ts sets them). The same lines go to
 * test-output/summary.txt, which .ci/run prints as its closing summary.
 *
 * "failed" counts failed tests, plus every file or suite that failed outside any test (an import error, a
 * failing beforeAll) and every unhandled error: a run with an error never says "0 failed".
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedSuites = new Map<string, { reason: string; tests: number }>();
    for (const m of modules) {
      failed += m.errors().length;
      for (const s of m.children.allSuites()) failed += s.errors().length;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else if (state === 'skipped') {
          skipped += 1;
          const { where, reason } = skipOf(t);
          const entry = skippedSuites.get(where) ?? { reason, tests: 0 };
          entry.tests += 1;
          skippedSuites.set(where, entry);
        }
      }
    }
    failed += unhandled.length;
    const lines = [`${passed} passed, ${failed} failed, ${skipped} skipped`];
    if (skippedSuites.size > 0) {
      lines.push('skipped suites:');
      for (const [where, { reason, tests }] of skippedSuites) lines.push(`  ${where} (${tests} ${tests === 1 ? 'test' : 'tests'}): ${reason}`);
    }
    const text = `${lines.join('\n')}\n`;
    process.stdout.write(`\n${text}`);
    mkdirSync(OUTPUT_DIR, { recursive: true });
    writeFileSync(`${OUTPUT_DIR}summary.txt`, text);
  }
}

/** The outermost suite that carries the skip reason (tests inherit it), else the test itself, else its suite. */
function skipOf(t: TestCase): { where: string; reason: string } {
  const file = t.module.relativeModuleId;
  let carrier: TestSuite | undefined;
  for (let p: TestSuite | TestModule = t.parent; p.type === 'suite'; p = p.parent) {
    if (p.meta().skipReason) carrier = p;
  }
  if (carrier) return { where: `${file} > ${carrier.fullName}`, reason: carrier.meta().skipReason! };
  if (t.meta().skipReason) return { where: `${file} > ${t.fullName}`, reason: t.meta().skipReason! };
  // tests a failing beforeAll kept from running: that failure is counted and shown above
  for (let p: TestSuite | TestModule = t.parent; ; p = p.parent) {
    if (p.errors().length > 0) return { where: p.type === 'suite' ? `${file} > ${p.fullName}` : file, reason: 'not run: the suite failed before its tests (see the error above)' };
    if (p.type === 'module') break;
  }
  const result = t.result();
  const note = result.state === 'skipped' ? result.note : undefined;
  const suite = t.parent.type === 'suite' ? ` > ${t.parent.fullName}` : '';
  return { where: `${file}${suite}`, reason: note ?? 'no reason given' };
}
