import type { AppStage, Health } from '../model/index.ts';

/** What one app-service state means for the runtime view. */
export interface StageRule {
  stage: AppStage;
  /** for `running` the entrances can still turn this unhealthy (see `deriveStage`) */
  health: Health;
  /** false = the app is not installed in this state: it leaves the view unless a task for it is active */
  inView: boolean;
}

const rule = (stage: AppStage, health: Health, inView = true): StageRule => ({ stage, health, inView });

/**
 * Every app-service ApplicationManagerState (app.bytetrade.io/v1alpha1), plus the legacy suspend names.
 * One table, shared by the PostgreSQL app-flow collector and the NATS event collector, so the same state
 * string always means the same stage. Rules:
 * - running is healthy unless an entrance is not running (`deriveStage`);
 * - every *Failed state (including *CancelFailed) is failed/unhealthy;
 * - stopped is stopped/unhealthy;
 * - uninstalled and canceled installs (pending/downloading/installing/initializing*Canceled) leave the view;
 *   a canceled upgrade/applyEnv/resume leaves the app installed, so it stays (the market's own
 *   isInstalledState agrees);
 * - in-flight states carry health unknown: nothing to judge until they settle;
 * - a state not in this table is stage unknown (never silently running): see `deriveStage`.
 */
export const STAGE_TABLE: Readonly<Record<string, StageRule>> = Object.freeze({
  // install flow
  pending: rule('installing', 'unknown'),
  downloading: rule('fetching', 'unknown'),
  installing: rule('installing', 'unknown'),
  initializing: rule('installing', 'unknown'),
  // settled
  running: rule('running', 'healthy'),
  stopped: rule('stopped', 'unhealthy'),
  suspended: rule('stopped', 'unhealthy'),
  // other operations in flight
  upgrading: rule('upgrading', 'unknown'),
  applyingEnv: rule('upgrading', 'unknown'),
  stopping: rule('stopped', 'unknown'),
  suspending: rule('stopped', 'unknown'),
  resuming: rule('running', 'unknown'),
  uninstalling: rule('uninstalling', 'unknown'),
  // gone
  uninstalled: rule('uninstalling', 'unknown', false),
  // cancel in flight: still part of the operation being canceled
  pendingCanceling: rule('installing', 'unknown'),
  downloadingCanceling: rule('fetching', 'unknown'),
  installingCanceling: rule('installing', 'unknown'),
  initializingCanceling: rule('installing', 'unknown'),
  upgradingCanceling: rule('upgrading', 'unknown'),
  applyingEnvCanceling: rule('upgrading', 'unknown'),
  resumingCanceling: rule('stopped', 'unknown'),
  // canceled installs never finished installing: not installed
  pendingCanceled: rule('stopped', 'unknown', false),
  downloadingCanceled: rule('stopped', 'unknown', false),
  installingCanceled: rule('stopped', 'unknown', false),
  initializingCanceled: rule('stopped', 'unknown', false),
  // canceled operations on an installed app: it stays installed (previous version / still stopped)
  upgradingCanceled: rule('running', 'unknown'),
  applyingEnvCanceled: rule('running', 'unknown'),
  resumingCanceled: rule('stopped', 'unhealthy'),
  // cancel failed: a *Failed state
  pendingCancelFailed: rule('failed', 'unhealthy'),
  downloadingCancelFailed: rule('failed', 'unhealthy'),
  installingCancelFailed: rule('failed', 'unhealthy'),
  initializingCancelFailed: rule('failed', 'unhealthy'),
  upgradingCancelFailed: rule('failed', 'unhealthy'),
  applyingEnvCancelFailed: rule('failed', 'unhealthy'),
  resumingCancelFailed: rule('failed', 'unhealthy'),
  // operation failed
  downloadFailed: rule('failed', 'unhealthy'),
  installFailed: rule('failed', 'unhealthy'),
  upgradeFailed: rule('failed', 'unhealthy'),
  applyEnvFailed: rule('failed', 'unhealthy'),
  stopFailed: rule('failed', 'unhealthy'),
  resumeFailed: rule('failed', 'unhealthy'),
  uninstallFailed: rule('failed', 'unhealthy'),
  failed: rule('failed', 'unhealthy'),
});

export const KNOWN_STATES: readonly string[] = Object.keys(STAGE_TABLE);

/** app-service spells states in camelCase; match case-insensitively so `Running` is not `unknown` */
const BY_LOWER = new Map(KNOWN_STATES.map((s) => [s.toLowerCase(), STAGE_TABLE[s]]));

const UNKNOWN_RULE: StageRule = rule('unknown', 'unknown');

export function lookupState(state: string): StageRule | undefined {
  return BY_LOWER.get(state.trim().toLowerCase());
}

/** One entrance of status_entrances / entranceStatuses. */
export interface EntranceStatus {
  name: string;
  state: string;
  /** its place in the runtime list, malformed entries counted (the market merges it with the manifest's by place) */
  at?: number;
  statusTime?: string;
  reason?: string;
}

export interface DerivedStage extends StageRule {
  /** false when the state string is not in the table */
  known: boolean;
  /** entrances that keep a running app from being healthy */
  downEntrances: EntranceStatus[];
}

/** Stage, health and visibility of one app from its raw state and entrance statuses. */
export function deriveStage(state: string, entrances: readonly EntranceStatus[] = []): DerivedStage {
  const found = lookupState(state);
  if (found === undefined) return { ...UNKNOWN_RULE, known: false, downEntrances: [] };
  if (found.stage !== 'running' || found.health !== 'healthy') return { ...found, known: true, downEntrances: [] };
  const down = entrances.filter((e) => e.state.toLowerCase() !== 'running');
  return { ...found, health: down.length > 0 ? 'unhealthy' : 'healthy', known: true, downEntrances: down };
}

/**
 * Remembers unknown state strings so each distinct value is reported once (the caller logs it).
 * Bounded, so a source spraying random strings cannot grow it without end.
 */
export class UnknownStates {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 1000) {}

  /** true the first time a value is seen: log it then */
  note(state: string): boolean {
    if (this.seen.has(state) || this.seen.size >= this.max) return false;
    this.seen.add(state);
    return true;
  }

  get distinct(): ReadonlySet<string> {
    return this.seen;
  }
}
