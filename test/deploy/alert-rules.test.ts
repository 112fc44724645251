import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseProm, type Exposition } from '../helpers/prom.ts';
import { PROMTOOL_PATH as PROMTOOL, describeWith } from '../helpers/services.ts';
import { fake, startInProcess, untilReady } from '../helpers/sidecar.ts';

const run = promisify(execFile);
const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const RULES = join(DEPLOY, 'prometheus-rules.yaml');
const RULE_TESTS = join(DEPLOY, 'prometheus-rules.test.yaml');
const rulesText = readFileSync(RULES, 'utf8');
const testsText = readFileSync(RULE_TESTS, 'utf8');

/** Labels a scrape adds to every series; the sidecar's own output never has them. */
const SCRAPE_LABELS = new Set(['instance', 'job']);

interface Rule { alert: string; expr: string; labelRefs: string[] }

/** The rules file, read as plain text (no YAML library in the project): its layout is kept simple for that. */
function rules(): Rule[] {
  return rulesText.split(/\n\s*- alert: /).slice(1).map((block) => {
    const alert = /^(\w+)/.exec(block)![1];
    const expr = /\n\s*expr: ([\s\S]*?)\n\s*for: /.exec(block)![1];
    const labelRefs = [...new Set([...block.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]))];
    return { alert, expr, labelRefs };
  });
}

function metricNames(text: string): string[] {
  return [...new Set(text.match(/\bmarket_runtime_\w+/g) ?? [])];
}

/** `name{a="x",b="y"}` of each input series of the rule tests. */
function inputSeries(): Array<{ selector: string; name: string; labels: Record<string, string> }> {
  return [...testsText.matchAll(/series: '([^']+)'/g)].map(([, selector]) => {
    const m = /^([a-zA-Z_:][\w:]*)\{(.*)\}$/.exec(selector);
    if (!m) throw new Error(`unexpected series selector ${selector}`);
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    return { selector, name: m[1], labels };
  });
}

describe('alert rules against the metrics a running sidecar serves', () => {
  let exposition: Exposition;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alert-rules-'));
    const empty = join(dir, 'steps.json');
    writeFileSync(empty, '[]');
    const sidecar = await startInProcess(['tasks', 'app_flow', 'components', 'chart_repo'].map((s) =>
      fake(s as 'tasks', { mode: 'file', file: empty })));
    try {
      await untilReady(sidecar.base);
      exposition = parseProm(await (await sidecar.get('/metrics')).text());
    } finally {
      await sidecar.sup.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refers only to metrics the sidecar serves (expressions and annotations)', () => {
    const names = metricNames(rulesText);
    expect(names.length).toBeGreaterThanOrEqual(8);
    // a histogram is queried through its _bucket, _sum and _count series: its own name selects nothing
    const histogram = (n: string) => exposition.types.get(n) === 'histogram';
    const serves = (n: string) => {
      const base = /^(.*)_(bucket|sum|count)$/.exec(n)?.[1];
      return (exposition.types.has(n) && !histogram(n)) || (base !== undefined && histogram(base));
    };
    const missing = names.filter((n) => !serves(n));
    expect(missing, 'metric names in deploy/prometheus-rules.yaml that /metrics does not serve as series').toEqual([]);
  });

  it('names in each alert\'s text only labels its metrics carry', () => {
    const all = rules();
    expect(all.map((r) => r.alert)).toHaveLength(7);
    for (const rule of all) {
      for (const name of metricNames(rule.expr)) {
        const carried = new Set(exposition.samples.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels)));
        const unknown = rule.labelRefs.filter((l) => !SCRAPE_LABELS.has(l) && !carried.has(l));
        expect(unknown, `${rule.alert}: labels of ${name}`).toEqual([]);
      }
    }
  });

  it('tests the rules with series exactly as /metrics serves them (name and labels, plus instance and job)', () => {
    const series = inputSeries();
    expect(series.length).toBeGreaterThan(10);
    for (const { selector, name, labels } of series) {
      expect(Object.keys(labels).filter((l) => SCRAPE_LABELS.has(l)).sort(), selector).toEqual(['instance', 'job']);
      const own = Object.fromEntries(Object.entries(labels).filter(([k]) => !SCRAPE_LABELS.has(k)));
      const served = exposition.samples.some((s) => s.name === name
        && Object.keys(s.labels).length === Object.keys(own).length
        && Object.entries(own).every(([k, v]) => s.labels[k] === v));
      expect(served, `${selector} is not a series of /metrics`).toBe(true);
    }
  });

  it('has a firing and a quiet case for every rule', () => {
    const cases = testsText.split(/\n\s*- eval_time: /).slice(1).map((chunk) => ({
      alert: /alertname: (\w+)/.exec(chunk)![1],
      quiet: /exp_alerts: \[\]/.test(chunk),
      firing: /exp_alerts:\s*\n\s*- exp_labels:/.test(chunk),
    }));
    for (const { alert } of rules()) {
      expect(cases.some((c) => c.alert === alert && c.quiet), `${alert}: quiet case`).toBe(true);
      expect(cases.some((c) => c.alert === alert && c.firing), `${alert}: firing case`).toBe(true);
    }
  });
});

// Debian's promtool (package `prometheus`, PROMTOOL_PATH overrides): .ci/run installs it, CI fails without it
describeWith('promtool', 'alert rules with promtool', () => {
  it('promtool check rules accepts the file', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(stdout).toMatch(/SUCCESS: 7 rules found/);
  });

  it('promtool test rules: every rule fires after its `for` and stays quiet otherwise', async () => {
    const result = await run(PROMTOOL, ['test', 'rules', RULE_TESTS]).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(result.stdout).toMatch(/SUCCESS/);
  });
});
