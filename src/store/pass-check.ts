import { SOURCE_NAMES, isObj } from '../model/index.ts';
import { DOMAINS } from '../protocol.ts';

const SOURCES = new Set<string>(SOURCE_NAMES);
const DOMAIN_SET = new Set<string>(DOMAINS);
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((k) => typeof k === 'string');

/**
 * What is wrong with a pass message's shape, or null. Passes come from our own collectors, whose
 * normalizers validated every source value; this check keeps a collector bug (an unknown step, a domain
 * the store has no table for, a list that is not a list) from getting half-way into the store.
 */
export function passProblem(msg: unknown): string | null {
  if (!isObj(msg) || msg.type !== 'pass') return 'not a pass message';
  if (typeof msg.source !== 'string' || !SOURCES.has(msg.source)) return `unknown source ${String(msg.source).slice(0, 40)}`;
  if (!Array.isArray(msg.steps)) return 'steps is not a list';
  for (const step of msg.steps as unknown[]) {
    if (!isObj(step)) return 'a step is not an object';
    switch (step.op) {
      case 'replace':
      case 'changes':
      case 'upsert':
        if (!DOMAIN_SET.has(String(step.domain))) return `${step.op} of unknown domain ${String(step.domain).slice(0, 40)}`;
        if (!Array.isArray(step.items) || !step.items.every(isObj)) return `${step.op} items are not a list of objects`;
        if (step.op === 'replace' && step.keep !== undefined && !isStrings(step.keep)) return 'replace keep keys are not strings';
        if (step.op === 'replace' && step.ahead !== undefined && !(Number.isSafeInteger(step.ahead) && (step.ahead as number) >= 0)) {
          return 'replace ahead is not a count';
        }
        if (step.op === 'changes' && !isStrings(step.removed)) return 'changes removed keys are not strings';
        if (step.op === 'changes' && step.left !== undefined && !(Array.isArray(step.left) && step.left.every(isLeftRow))) {
          return 'changes left rows are malformed';
        }
        break;
      case 'remove':
        if (!DOMAIN_SET.has(String(step.domain))) return `remove from unknown domain ${String(step.domain).slice(0, 40)}`;
        if (!isStrings(step.keys)) return 'remove keys are not strings';
        break;
      case 'chart_repo_pairs':
        if (!isObj(step.frame) || typeof step.frame.last_update !== 'string') return 'chart_repo_pairs frame is malformed';
        if (typeof step.shared_content !== 'string') return 'chart_repo_pairs shared_content is not a string';
        if (!Array.isArray(step.pairs) || !step.pairs.every(isPairSlot)) return 'chart_repo_pairs pairs are malformed';
        break;
      case 'chart_repo_parts':
        if (!Array.isArray(step.pairs) || !step.pairs.every((p) => isPairSlot(p) && isObj(p) && p.part !== undefined)) {
          return 'chart_repo_parts pairs are malformed';
        }
        break;
      case 'items_ahead':
        if (!DOMAIN_SET.has(String(step.domain))) return `items ahead of unknown domain ${String(step.domain).slice(0, 40)}`;
        if (!Array.isArray(step.items) || !step.items.every(isObj)) return 'items ahead are not a list of objects';
        if (step.first !== undefined && typeof step.first !== 'boolean') return 'items ahead first is not a boolean';
        break;
      case 'app_events':
        if (!Array.isArray(step.events) || !step.events.every((e) => isObj(e) && typeof e.key === 'string'
          && typeof e.at === 'string' && (e.app === null || isObj(e.app)))) return 'app_events are malformed';
        break;
      default:
        return `unknown step ${String(step.op).slice(0, 40)}`;
    }
  }
  return null;
}

function isPairSlot(x: unknown): boolean {
  if (!isObj(x) || typeof x.user !== 'string' || typeof x.source !== 'string' || typeof x.content !== 'string') return false;
  if (x.base !== undefined && typeof x.base !== 'string') return false;
  if (x.part === undefined) return true;
  const p = x.part;
  // (indexes into the held part only in a part sent as changes to it)
  const isItemList = x.base === undefined ? isRenderedList : isSentList;
  if (!isObj(p) || !isItemList(p.apps) || !isItemList(p.images)) return false;
  if (p.hydrator === undefined) return true;
  const h = p.hydrator;
  return isObj(h) && isObj(h.counters) && Object.values(h.counters).every((n) => typeof n === 'number')
    && isItemList(h.tasks) && isItemList(h.recent_failed);
}

/** a rendered Chart Repo item (ChartItemPart): JSON, a key, facets */
const isRendered = (i: unknown): boolean => isObj(i) && typeof i.json === 'string' && typeof i.key === 'string'
  && isObj(i.facets) && (i.state === undefined || typeof i.state === 'string');

const isRenderedList = (x: unknown): boolean => Array.isArray(x) && x.every(isRendered);

/** rendered items, or indexes of items in the part held (SentPairPart) */
const isSentList = (x: unknown): boolean =>
  Array.isArray(x) && x.every((i) => (typeof i === 'number' ? Number.isSafeInteger(i) && i >= 0 : isRendered(i)));

/** A LeftRow: strings where the timeline writes them (a malformed one would be written into a history). */
function isLeftRow(x: unknown): boolean {
  return isObj(x) && typeof x.key === 'string' && typeof x.at === 'string' && !Number.isNaN(Date.parse(x.at)) && typeof x.state === 'string';
}
