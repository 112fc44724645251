import type { CollectContext, Collector, CollectorHooks, CollectResult, CreateCollector } from '../collector.ts';
import { NatsSubscription } from '../../sources/nats.ts';
import { decodeAppEvent } from '../app-event.ts';
import { UnknownStates } from '../stage-table.ts';

const FIRST_CONNECT_WAIT_MS = 3000;

interface NatsCollectorOptions {
  natsUrl: string;
  natsSubject: string;
}

/**
 * app-service events from NATS: each valid message is pushed to the store at once (bursts coalesce into
 * one store step); an invalid one is dropped and counted. One whose createTime lies beyond its arrival (plus
 * clock skew) is kept at the time it arrived, and counted (`future_times`). A run only reports the connection's health.
 */
export const createCollector: CreateCollector = (options: NatsCollectorOptions, hooks?: CollectorHooks): Collector => {
  if (!hooks) throw new Error('the nats collector needs push hooks');
  const unknownStates = new UnknownStates();
  const totals = { events: 0, dropped: 0, futureTimes: 0 };
  let lastEventAt = 0;
  let lastDropReason = '';
  /** good messages since the last dropped one */
  let goodSinceDrop = 0;
  let window = { at: Date.now(), events: 0, dropped: 0 };

  const nats = new NatsSubscription({
    url: options.natsUrl,
    subject: options.natsSubject,
    onMessage(data) {
      const receivedMs = Date.now();
      const decoded = decodeAppEvent(data, unknownStates, receivedMs);
      if (!decoded.ok) {
        totals.dropped += 1;
        lastDropReason = decoded.reason;
        goodSinceDrop = 0;
        return;
      }
      totals.events += 1;
      if (decoded.futureTime !== undefined) totals.futureTimes += 1;
      goodSinceDrop += 1;
      lastEventAt = receivedMs;
      hooks.push([{ op: 'app_events', events: [decoded.event] }]);
    },
  });
  nats.start();
  let firstRun = true;

  return {
    async collect(_ctx: CollectContext): Promise<CollectResult> {
      // the first run says whether the subscription stands, rather than racing the connection; later runs
      // report at once (a server that stays away would otherwise make every run wait, and pacing back off)
      if (firstRun) await nats.waitConnected(FIRST_CONNECT_WAIT_MS);
      firstRun = false;
      const now = Date.now();
      const seconds = Math.max(0.001, (now - window.at) / 1000);
      const eventsPerS = Math.round(((totals.events - window.events) / seconds) * 10) / 10;
      const droppedNow = totals.dropped - window.dropped;
      window = { at: now, events: totals.events, dropped: totals.dropped };
      // The warning clears at the first run that saw no dropped message since the previous run and at
      // least one good message since the last drop: good messages flow again. A quiet subject keeps it
      // (nothing says the publisher was fixed); `dropped` keeps counting either way.
      if (droppedNow === 0 && goodSinceDrop > 0) lastDropReason = '';
      const counters = {
        connected: nats.connected ? 1 : 0,
        events: totals.events,
        dropped: totals.dropped,
        events_per_s: eventsPerS,
        reconnects: nats.reconnects,
        last_event_ms: lastEventAt,
        unknown_states: unknownStates.distinct.size,
        future_times: totals.futureTimes,
      };
      if (!nats.connected) {
        return { steps: [], counters, failed: `not connected to NATS${nats.lastError ? `: ${nats.lastError}` : ''}` };
      }
      // the same words from the first drop until it clears: a warning is content (it mints a version), so a
      // trickle of bad messages changes it only when the reason does; how many is the `dropped` counter
      const warning = lastDropReason ? `messages dropped (see counters.dropped); last: ${lastDropReason}` : null;
      return { steps: [], counters, ...(warning ? { warning } : {}) };
    },
    close: () => nats.close(),
  };
};
