import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { mergeAnswers } from '../../src/collect/chart-repo-merge.ts';
import { ChartRepoStatus, HYDRATION_STEPS } from '../../src/model/chart-repo.ts';
import { statusData, omitEmpty } from '../../src/demo/chart-repo-payload.ts';
import type { MarketModel } from '../../src/demo/market-model.ts';
import { createMarket, seedMarket } from '../../src/demo/market-seed.ts';
import { stepMarket } from '../../src/demo/market-step.ts';

type Data = {
  system?: unknown;
  apps?: Record<string, any>[];
  images?: Record<string, any>[];
  tasks?: { hydrator?: Record<string, any>; image_analyzer?: Record<string, any> };
};

/** every (user, source) the Chart Repo collector would ask about: the distinct pairs of user_applications */
function pairs(m: MarketModel): [string, string][] {
  const seen = new Map<string, [string, string]>();
  for (const i of m.installs.values()) seen.set(`${i.user_id}/${i.source_id}`, [i.user_id, i.source_id]);
  return [...seen.values()];
}

function answers(m: MarketModel): Data[] {
  return pairs(m).map(([user, source]) => statusData(m, { user, source, include: ['apps', 'images', 'tasks'] }) as Data);
}

/**
 * Converts the answer the way the collector does: nothing may be dropped, unfamiliar, a bad time or a bad
 * duration (the simulator speaks the Chart Repo's language), and the result fits Go's shapes.
 */
function validateAll(d: Data): void {
  const r = normalizeAnswer({ success: true, data: d }, new Date(0).toISOString());
  if (!r.ok) throw new Error(r.error);
  expect(r.answer).toMatchObject({ dropped: 0, unfamiliar_values: 0, bad_times: 0, bad_durations: 0 });
  v.parse(ChartRepoStatus, mergeAnswers([r.answer], new Date(0).toISOString()));
}

describe('Chart Repo payloads of the simulator', () => {
  it('convert into Go\'s shapes with nothing dropped, unfamiliar or bad, over ten minutes of workload', () => {
    const m = createMarket({ seed: 17 });
    let items = 0;
    for (let s = 0; s <= 600; s += 5) {
      stepMarket(m, m.options.start + s * 1000);
      for (const d of answers(m)) {
        validateAll(d);
        items += (d.apps?.length ?? 0) + (d.images?.length ?? 0);
      }
    }
    expect(items).toBeGreaterThan(1000);
  });

  it('convert cleanly for a seeded benchmark market too', () => {
    const m = seedMarket({ installedApps: 1000, tasks: 300, chartRepoApps: 200, images: 100, nodesPerImage: 2 });
    const all = answers(m);
    expect(all.flatMap((d) => d.apps ?? [])).toHaveLength(200);
    for (const d of all) validateAll(d);
  });

  it('are consistent with the market: the same users, sources and apps', () => {
    const m = createMarket({ seed: 4 });
    let apps = 0;
    let images = 0;
    for (const [user, source] of pairs(m)) {
      const d = statusData(m, { user, source, include: ['apps', 'images'] }) as Data;
      const names = new Set([...m.installs.values()].filter((i) => i.user_id === user && i.source_id === source).map((i) => i.app_name));
      for (const app of d.apps ?? []) {
        expect(app.user_id).toBe(user);
        expect(app.source_id).toBe(source);
        expect(names).toContain(app.app_name);
        apps++;
      }
      for (const img of d.images ?? []) {
        expect(names).toContain(img.app_name);
        images++;
      }
    }
    expect(apps).toBeGreaterThan(0);
    expect(images).toBeGreaterThan(0);
  });

  it('shows apps moving through the five hydration steps, with processing durations in ns', () => {
    const m = createMarket({ seed: 8 });
    const steps = new Set<string>();
    const states = new Set<string>();
    for (let s = 0; s <= 120; s++) {
      stepMarket(m, m.options.start + s * 1000);
      for (const d of answers(m)) {
        for (const app of d.apps ?? []) {
          states.add(app.state);
          if (app.current_step) {
            steps.add(app.current_step.name);
            expect(app.current_step.total).toBe(5);
            expect(HYDRATION_STEPS[app.current_step.index ?? 0]).toBe(app.current_step.name);
          }
          if (app.state === 'processing') expect(app.processing.task_id).toMatch(/^hydrate-/);
        }
      }
    }
    expect([...steps].sort()).toEqual([...HYDRATION_STEPS].sort());
    expect(states).toEqual(new Set(['pending', 'processing', 'completed', 'failed']));
  });

  it('shows images downloading per node and the hydrator and analyzer queues', () => {
    const m = seedMarket({ installedApps: 1000, tasks: 300, chartRepoApps: 200, images: 100, nodesPerImage: 2 });
    const all = answers(m);
    const images = all.flatMap((d) => d.images ?? []);
    expect(images).toHaveLength(100);
    expect(images.every((i) => i.nodes.length === 2)).toBe(true);
    expect(new Set(images.map((i) => i.status)).size).toBeGreaterThanOrEqual(3);
    expect(all.flatMap((d) => d.apps ?? [])).toHaveLength(200);
    const hydrators = all.map((d) => d.tasks?.hydrator ?? {});
    expect(hydrators.reduce((s, h) => s + (h.active_tasks ?? 0), 0)).toBeGreaterThan(0);
    expect(hydrators.reduce((s, h) => s + (h.queue_length ?? 0), 0)).toBeGreaterThan(0);
    expect(all[0].tasks?.image_analyzer?.is_running).toBe(true);
  });

  it('omits empty fields like the real service: no zeros, empty strings, empty lists', () => {
    expect(omitEmpty({ a: 0, b: '', c: [], d: {}, e: false, f: null, g: 1, h: [{ x: 0 }], i: { j: 'k' } })).toEqual({ g: 1, i: { j: 'k' } });
    const m = createMarket({ seed: 1 });
    const json = JSON.stringify(answers(m));
    expect(json).not.toMatch(/:(0|""|\[\]|\{\}|null|false)[,}]/);
    // a user with nothing gets the system block only
    expect(Object.keys(statusData(m, { user: 'nobody', source: 'local', include: ['apps', 'images', 'tasks'] }))).toEqual(['system', 'tasks']);
  });
});
