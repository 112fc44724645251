import type { AheadStep, StoreStep } from '../protocol.ts';

/** What a collector's run gets: a deadline signal, the clock (tests drive both), and what its store lacks. */
export interface CollectContext {
  signal: AbortSignal;
  now(): Date;
  /**
   * The store may lack part of what this collector sent before (a new store, or a pass it did not
   * acknowledge): a collector that sends only what changed lists everything this run.
   */
  full: boolean;
  /** keys the store asked to have sent again (AppliedMessage.reread): the collector's memory of them is wrong */
  reread?: readonly string[];
  /**
   * Sends parts of this pass to the store now, in a message of their own, resolved once acknowledged (they stay
   * unseen until the pass's chart_repo_pairs or replace step takes them): a big pass never sits whole in memory
   * or in one message. Absent where nothing stands between the collector and the store (tests): parts then go
   * in the pass.
   */
  sendAhead?(step: AheadStep): Promise<void>;
}

/** What one run produced: the steps of one atomic pass, and numbers for the source status. */
export interface CollectResult {
  steps: StoreStep[];
  counters?: Record<string, number>;
  /** a run that got some data but not all (e.g. some Chart Repo pairs failed) reports it here */
  warning?: string;
  /** what the warning leaves out, for the log (PassOutcome.warning_detail) */
  warningDetail?: string[];
  /** a run that failed but still has numbers to report (e.g. NATS disconnected): ok=false, steps applied */
  failed?: string;
  /** the run read in bulk (every row, most answers parsed): its thread releases the garbage at once (release-memory.ts) */
  bulk?: boolean;
}

/**
 * A collector reads one source and normalizes it. It runs inside its own thread; the collector runtime
 * (collect/runtime.ts) posts its steps to the store. A run that throws changes nothing in the store and
 * marks its source failed, so a failing source never removes what was known.
 */
export interface Collector {
  collect(ctx: CollectContext): Promise<CollectResult>;
  close?(): Promise<void>;
}

/** What a collector may do besides answering runs: push changes as they happen (event sources). */
export interface CollectorHooks {
  /** steps applied between runs; a burst is coalesced into one store step */
  push(steps: StoreStep[]): void;
}

/** The export every collector module provides; `options` is plain data from the supervisor. */
export type CreateCollector = (options: any, hooks?: CollectorHooks) => Collector | Promise<Collector>;
