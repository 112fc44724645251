import type { ServerResponse } from 'node:http';
import { emptySummary, type ChartRepoStatus, type RuntimeSummary } from '../model/index.ts';
import {
  changesBytes, DOMAINS, type ChangedChartItem, type ChangedEntity, type ChartList, type ChartRepoChanges, type Domain, type Facets, type StateFilter, type VersionChanges,
  type PassedEntity, type VersionMessage,
} from '../protocol.ts';
import { CHART_LISTS } from '../store/chart-repo-items.ts';
import { countAppFacets, countTask } from '../store/summary.ts';
import { appMatches, chartItemMatches, filterChartFrame, hasChartFilter, taskMatches } from '../store/filter.ts';
import type { AnswerBytes } from './answer-bytes.ts';
import type { Freshness } from './freshness.ts';
import { DATA_HEADERS } from './security.ts';
import { bodyContentKey } from '../collect/chart-repo-content.ts';

/** The stream's headers (also HEAD's): written straight to the node response, so the data headers too. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  ...DATA_HEADERS,
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/** Limits of the change stream (stated in docs/api.md, The change stream). */
export const STREAM_LIMITS = {
  /** versions kept for clients that resume with Last-Event-ID (minutes at a poll every few seconds) */
  historyVersions: 256,
  /**
   * bytes kept in that history: each version's rendered event and the changes it was rendered from (for
   * filtered clients) count both; past this the oldest versions go (a resume from there gets a snapshot).
   * Never more than the /state body's size either (with a floor, historyFloorBytes): replaying more than that
   * costs a resuming client more than the snapshot it would get instead (at 1,000 apps the body is ~2 MB)
   */
  historyBytes: 4 * 1024 * 1024,
  historyFloorBytes: 256 * 1024,
  /**
   * a client whose unsent bytes pass this is cut off (it can resume). Its first snapshot does not count: a
   * market's snapshot is larger than this from a few thousand apps on (19 MB at 10,000)
   */
  clientBufferBytes: 8 * 1024 * 1024,
  /**
   * snapshots written but not yet sent, over all clients: a client whose snapshot would take the sum past this
   * while another's is still unsent is refused (503, Retry-After) rather than buffered (one is always let in)
   */
  snapshotBytesInFlight: 64 * 1024 * 1024,
  heartbeatMs: 15_000,
  /** at most one `freshness` event per this long (sources report several times per interval) */
  freshnessEveryMs: 1000,
  maxClients: 1000,
};

/** The bytes of history kept when the /state body has about `stateBytes` (STREAM_LIMITS.historyBytes). */
export function historyBound(stateBytes: number): number {
  return Math.min(STREAM_LIMITS.historyBytes, Math.max(STREAM_LIMITS.historyFloorBytes, stateBytes));
}

/**
 * An event's id: `<epoch>-<version>.<content>`. The store's epoch and version say where a resume starts
 * (Last-Event-ID); the content digest is what the version's ETag names, so a client that follows the
 * stream can ask for `state` conditionally (W/"<content>") and get a 304.
 */
function eventId(epoch: string, version: number, content: string): string {
  return `${epoch}-${version}.${content}`;
}
/** a Last-Event-ID we gave out (the content part is not needed to resume) */
const EVENT_ID = /^(\w+)-(\d+)(?:\.[\w-]*)?$/;

interface HistoryEntry {
  version: number;
  content: string;
  timestamp: string;
  summary: RuntimeSummary;
  changes: VersionChanges;
  /** the unfiltered event, rendered once */
  text: string;
  /** the same with timeline entries, rendered once when a client asked */
  textWithTimeline?: string;
  /** the `?view=summary` event, rendered once when a client asked */
  textSummary?: string;
  /** what this entry holds, counted against STREAM_LIMITS.historyBytes */
  bytes: number;
  /**
   * when this version moved the chart_repo frame: the changes that carried the frame before it (undefined: none
   * seen since this stream began), so a filtered client can tell whether its narrowed frame moved (seesChartRepo)
   */
  framePrev?: ChartRepoChanges;
  /** per filter (canonical query) whether its narrowed frame moved in this version: worked out once, not per client */
  frameMovedFor?: Map<string, boolean>;
}

interface Client {
  out: ServerResponse;
  filter: StateFilter | null;
  canonical: string;
  /** asked for timeline entries (?timeline=true) */
  timeline: boolean;
  /** filtered clients: their summary, kept current change by change */
  summary: RuntimeSummary | null;
  /** versions up to this were covered by the snapshot or replay the client got */
  after: number;
  /** events that arrived while the client's snapshot was being fetched */
  queue: HistoryEntry[] | null;
  /** ended while its snapshot was being fetched (nothing written yet): the caller answers 503 instead */
  ended?: boolean;
  /** ?view=summary: one small event per version (version, timestamp, summary, sources), no entities */
  summaryOnly?: boolean;
  /** characters handed to `out` so far */
  written: number;
  /** `written` at the end of the client's snapshot (0: none): until it is sent, it is not counted as backlog */
  snapshotEnd: number;
  /** the memory of the snapshot's bytes when other clients share it (the version's body) */
  snapshotMemory?: ArrayBufferLike;
}

export interface StreamSnapshot {
  version: number;
  /** the content digest of that version (for the event id) */
  content: string;
  /**
   * the snapshot JSON (the `data` of /state), filtered when the client filters. The unfiltered one is the
   * version's body bytes: written as they are, every new client's socket holds the same bytes, not a copy each
   * (every full client reconnects at once after a store restart)
   */
  json: string | Uint8Array;
  /** the filtered summary (filtered clients only: an unfiltered client's events carry the store's) */
  summary?: RuntimeSummary;
}

/** What became of a new stream client: attached, or refused (503) as the clients are enough or the store did not answer. */
export type Attached = 'attached' | 'full' | 'busy' | 'unavailable';

/**
 * Server-Sent Events of store versions, in the HTTP thread. Each version becomes one `change` event
 * (id = epoch-version, as the ETag) listing changed entities and the new summary; unfiltered clients share
 * one rendering per version, filtered ones see only matching changes. A bounded history serves
 * Last-Event-ID resumes; a client too far behind gets a `snapshot` event first.
 */
export class ChangeStream {
  private epoch = '';
  private history: HistoryEntry[] = [];
  private historyBytes = 0;
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  /** the latest `freshness` event, rendered once for every client */
  private freshnessEvent: string | null = null;
  private freshnessTimer: NodeJS.Timeout | null = null;
  private freshnessSentAt = 0;
  /** the latest version, whatever the history kept: a summary client's first event */
  private latest: HistoryEntry | null = null;
  /** the last version's chart_repo changes that carried a frame (HistoryEntry.framePrev) */
  private lastFrame: ChartRepoChanges | undefined;
  /** clients cut off for not keeping up (/metrics: market_runtime_http_stream_cut_off_total) */
  cutOff = 0;

  /**
   * `bytes`: who holds the store's answer bytes (http/answer-bytes.ts). A snapshot written as a version's body
   * holds it until the socket has flushed it: else a newer body's arrival frees it under the write, and the
   * client gets a snapshot cut short that never ends.
   */
  constructor(private readonly bytes?: Pick<AnswerBytes, 'hold' | 'release'>) {
    this.heartbeat = setInterval(() => this.beat(), STREAM_LIMITS.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  onVersion(m: VersionMessage): void {
    if (m.epoch !== this.epoch) {
      // a restarted store starts its versions again: old ids mean nothing now. Connected clients end their
      // stream and reconnect; their Last-Event-ID names the old epoch, so they get a fresh snapshot.
      if (this.epoch !== '') this.endClients();
      this.epoch = m.epoch;
      this.history = [];
      this.historyBytes = 0;
      this.lastFrame = undefined;
    }
    const entry: HistoryEntry = { version: m.version, content: m.content, timestamp: m.timestamp, summary: m.summary, changes: m.changes, text: '', bytes: 0 };
    if (m.changes.chart_repo?.frame !== undefined) {
      entry.framePrev = this.lastFrame;
      this.lastFrame = m.changes.chart_repo;
    }
    if (m.changes.oversize) {
      // no replay across it: clients that follow item by item end and resume from a snapshot (their
      // Last-Event-ID is older than the history); summary clients only need to hear of the version
      this.history = [];
      this.historyBytes = 0;
      this.latest = entry;
      for (const c of [...this.clients]) {
        if (c.summaryOnly) this.deliver(c, entry);
        else this.end(c);
      }
      return;
    }
    entry.text = this.render(entry, null, m.summary);
    entry.bytes = entry.text.length + changesBytes(m.changes);
    this.latest = entry;
    this.history.push(entry);
    this.historyBytes += entry.bytes;
    const maxBytes = historyBound(m.size_hint);
    while (this.history.length > STREAM_LIMITS.historyVersions || this.historyBytes > maxBytes) {
      this.historyBytes -= this.history.shift()!.bytes;
    }
    for (const c of this.clients) this.deliver(c, entry);
  }

  /**
   * Sources reported (or a thread was replaced): a `freshness` event (not a version, no id) with each source's
   * health and freshness and each thread's replacements, throttled, so pages keep ages live on a market where
   * nothing changes without re-reading the snapshot.
   */
  onFreshness(f: Freshness): void {
    this.freshnessEvent = `event: freshness\ndata: ${f.data}\n\n`;
    if (this.freshnessTimer) return;
    const wait = Math.max(0, this.freshnessSentAt + STREAM_LIMITS.freshnessEveryMs - Date.now());
    this.freshnessTimer = setTimeout(() => {
      this.freshnessTimer = null;
      this.freshnessSentAt = Date.now();
      const text = this.freshnessEvent;
      if (text) for (const c of this.clients) if (!c.queue) this.write(c, text);
    }, wait);
    this.freshnessTimer.unref();
  }

  /**
   * Attaches a client. `snapshot` fetches the (filtered) snapshot when the client needs one: a new client,
   * or one whose Last-Event-ID is no longer in the history. Filtered resumes use it for their summary.
   * Nothing is written until the snapshot is here: when it fails (the store does not answer) the client is
   * told so with a 503 by the caller, not given a 200 and then dropped. Versions minted meanwhile wait in its
   * queue. 'full': clients enough are connected (the caller answers 503 too).
   */
  async connect(
    out: ServerResponse, filter: StateFilter | null, canonical: string, lastEventId: string | undefined,
    snapshot: () => Promise<StreamSnapshot>, timeline = false,
  ): Promise<Attached> {
    if (this.full()) return 'full';
    const client: Client = { out, filter, canonical, timeline, summary: null, after: 0, queue: [], written: 0, snapshotEnd: 0 };
    this.clients.add(client);
    out.on('close', () => { this.clients.delete(client); });

    const resumeFrom = this.resumable(lastEventId);
    if (resumeFrom === null || filter) {
      let snap: StreamSnapshot;
      try {
        snap = await snapshot();
      } catch {
        this.clients.delete(client);
        return 'unavailable';
      }
      // ended meanwhile (a new store's epoch, an oversize version, shutdown): its head is not written yet, so it
      // is told to come back (503, Retry-After) rather than given a stream that ends at once
      if (client.ended) return 'unavailable';
      if (resumeFrom === null && this.tooMuchInFlight(snap.json)) {
        this.clients.delete(client);
        return 'busy';
      }
      this.begin(out);
      client.summary = filter ? snap.summary ?? emptySummary() : null;
      if (resumeFrom === null) {
        this.writeSnapshot(client, `id: ${eventId(this.epoch, snap.version, snap.content)}\nevent: snapshot\ndata: `, snap.json);
      } else {
        this.replay(client, resumeFrom, snap.version);
      }
      client.after = snap.version;
    } else {
      this.begin(out);
      this.replay(client, resumeFrom, Infinity);
      client.after = this.history.at(-1)?.version ?? resumeFrom;
    }
    const queued = client.queue ?? [];
    client.queue = null;
    for (const e of queued) this.deliver(client, e);
    if (this.freshnessEvent) this.write(client, this.freshnessEvent);
    return 'attached';
  }

  /**
   * Attaches a `?view=summary` client: a page that lists apps a page at a time and only needs to know when a
   * version is minted. Its first event is a `snapshot` of the latest version's {version, timestamp, summary}
   * (never the state), then one `change` event per version; a reconnect starts again from the latest (the
   * client re-reads what it shows), so nothing is replayed.
   */
  connectSummary(out: ServerResponse): Attached {
    if (this.full()) return 'full';
    this.begin(out);
    const client: Client = { out, filter: null, canonical: '', timeline: false, summary: null, after: 0, queue: null, summaryOnly: true, written: 0, snapshotEnd: 0 };
    this.clients.add(client);
    out.on('close', () => { this.clients.delete(client); });
    const e = this.latest;
    if (e) {
      this.write(client, summaryEvent('snapshot', this.epoch, e, false));
      client.after = e.version;
    }
    if (this.freshnessEvent) this.write(client, this.freshnessEvent);
    return 'attached';
  }

  /** Whether clients enough are connected: a new one is refused (STREAM_LIMITS.maxClients), 503. */
  full(): boolean {
    return this.clients.size >= STREAM_LIMITS.maxClients;
  }

  /** Starts a stream's response. */
  private begin(out: ServerResponse): void {
    if (out.destroyed) return;
    out.writeHead(200, STREAM_HEADERS);
    out.write('retry: 2000\n\n');
  }

  /** The version after which history can replay for this id, or null when a snapshot is needed. */
  private resumable(lastEventId: string | undefined): number | null {
    if (!lastEventId) return null;
    const m = EVENT_ID.exec(lastEventId.trim());
    if (!m || m[1] !== this.epoch) return null;
    const last = Number(m[2]);
    const oldest = this.history[0]?.version;
    if (oldest === undefined || last < oldest - 1 || last > (this.history.at(-1)?.version ?? 0)) return null;
    return last;
  }

  /**
   * The versions after `after`, as the live stream sent them: a filtered client's only where it sees a change,
   * each with the summary at its version. The client's summary is the snapshot's (at `upTo`): it is walked back
   * over the versions being replayed, then forward again as they are written.
   */
  private replay(client: Client, after: number, upTo: number): void {
    const entries = this.history.filter((e) => e.version > after && e.version <= upTo);
    const f = client.filter;
    if (!f) {
      for (const e of entries) this.write(client, this.textFor(client, e));
      return;
    }
    const latest = client.summary!;
    let s = latest;
    for (let i = entries.length - 1; i >= 0; i--) s = movedSummary(s, entries[i]!.changes, f, -1, entries[i - 1]?.summary ?? s);
    for (const e of entries) {
      s = movedSummary(s, e.changes, f, 1, e.summary);
      client.summary = s;
      if (seesAny(f, client.canonical, e, client.timeline)) this.write(client, this.textFor(client, e));
    }
    client.summary = latest;
  }

  private deliver(client: Client, e: HistoryEntry): void {
    if (client.queue) {
      client.queue.push(e);
      return;
    }
    if (e.version <= client.after) return;
    client.after = e.version;
    if (client.summaryOnly) {
      this.write(client, (e.textSummary ??= summaryEvent('change', this.epoch, e, true)));
      return;
    }
    if (!client.filter) {
      this.write(client, this.textFor(client, e));
      return;
    }
    const matched = this.advance(client, e);
    if (matched) this.write(client, this.textFor(client, e));
  }

  /** Moves a filtered client's summary over one version's changes; true when anything it sees changed. */
  private advance(client: Client, e: HistoryEntry): boolean {
    const f = client.filter!;
    client.summary = movedSummary(client.summary ?? emptySummary(), e.changes, f, 1, e.summary);
    return seesAny(f, client.canonical, e, client.timeline);
  }

  /** The event for this client: unfiltered ones share one rendering per version (one more with the timeline). */
  private textFor(client: Client, e: HistoryEntry): string {
    if (client.filter) return this.render(e, client.filter, client.summary!, client.timeline);
    if (!client.timeline || !(e.changes.timeline || e.changes.timeline_omitted)) return e.text;
    return (e.textWithTimeline ??= this.render(e, null, e.summary, true));
  }

  /** One `change` event; `filter` null = everything; timeline entries for clients that asked. */
  private render(e: HistoryEntry, filter: StateFilter | null, summary: RuntimeSummary, timeline = false): string {
    const parts: string[] = [`"version":${e.version}`, `"timestamp":${JSON.stringify(e.timestamp)}`];
    const upserts: string[] = [];
    const removed: string[] = [];
    for (const domain of DOMAINS) {
      const kept = filter ? e.changes[domain].filter((c) => visible(domain, c, filter)) : e.changes[domain];
      const up = kept.filter((c) => c.json !== undefined && (!filter || c.now === undefined || matchesNow(domain, c, filter)));
      const gone = kept.filter((c) => c.json === undefined || (filter && !matchesNow(domain, c, filter)));
      if (up.length) upserts.push(`${JSON.stringify(domain)}:{${up.map((c) => `${JSON.stringify(c.key)}:${c.json}`).join(',')}}`);
      if (gone.length) removed.push(`${JSON.stringify(domain)}:${JSON.stringify(gone.map((c) => c.key))}`);
    }
    parts.push(`"upserts":{${upserts.join(',')}}`, `"removed":{${removed.join(',')}}`);
    if (e.changes.chart_repo !== undefined) {
      const chart = renderChartChanges(e.changes.chart_repo, filter && hasChartFilter(filter) ? filter : null);
      if (chart !== null) parts.push(`"chart_repo":${chart}`);
    }
    if (e.changes.sources !== undefined) parts.push(`"sources":${e.changes.sources}`);
    // a filtered client gets the entries of the apps and tasks it sees in this version, and of those that came
    // and went within it that its filter matches
    const seen = (domain: 'app_states' | 'tasks') => {
      const keys = new Set((filter ? e.changes[domain].filter((c) => visible(domain, c, filter)) : e.changes[domain]).map((c) => c.key));
      for (const p of e.changes.passed?.[domain] ?? []) if (!filter || passedMatches(domain, p, filter)) keys.add(p.key);
      return keys;
    };
    if (timeline && e.changes.timeline) {
      const kinds: string[] = [];
      for (const domain of ['app_states', 'tasks'] as const) {
        const keys = seen(domain);
        const items = e.changes.timeline[domain].filter((t) => keys.has(t.key));
        if (items.length) kinds.push(`${JSON.stringify(domain)}:{${items.map((t) => `${JSON.stringify(t.key)}:${t.json}`).join(',')}}`);
      }
      if (kinds.length) parts.push(`"timeline":{${kinds.join(',')}}`);
    }
    if (timeline && e.changes.timeline_omitted) {
      // entries too large to ride along: how many of those this client would have got
      let omitted = 0;
      for (const domain of ['app_states', 'tasks'] as const) {
        const keys = seen(domain);
        for (const t of e.changes.timeline_omitted[domain]) if (keys.has(t.key)) omitted += t.n;
      }
      if (omitted > 0) parts.push(`"timeline_omitted":${omitted}`);
    }
    parts.push(`"summary":${JSON.stringify(summary)}`);
    return `id: ${eventId(this.epoch, e.version, e.content)}\nevent: change\ndata: {${parts.join(',')}}\n\n`;
  }

  private write(client: Client, text: string): void {
    const out = client.out;
    if (out.destroyed) return;
    if (out.writableLength - unsentSnapshot(client) + text.length > STREAM_LIMITS.clientBufferBytes) {
      // a client that cannot keep up is cut off rather than buffered without bound; it can resume
      this.cutOff += 1;
      this.clients.delete(client);
      out.destroy();
      return;
    }
    out.write(text);
    client.written += text.length;
  }

  /** The client's first snapshot, whatever its size: the backlog a client is cut off for is what comes after. */
  private writeSnapshot(client: Client, head: string, json: string | Uint8Array): void {
    const out = client.out;
    out.write(head);
    const bytes = this.bytes;
    if (typeof json === 'string' || !bytes) out.write(json);
    else {
      bytes.hold(json);
      // called once the chunk is flushed, or with an error when the socket went first
      out.write(json, () => bytes.release(json));
    }
    out.write('\n\n');
    client.written += head.length + json.length + 2;
    client.snapshotEnd = client.written;
    if (typeof json !== 'string') client.snapshotMemory = json.buffer;
  }

  /**
   * Whether the snapshot `json` would take the unsent snapshots past their bound while another is unsent.
   * Bytes shared by several clients (one version's body) count once: they are in memory once.
   */
  private tooMuchInFlight(json: string | Uint8Array): boolean {
    let unsent = 0;
    const shared = new Set<ArrayBufferLike>();
    for (const c of this.clients) {
      const n = unsentSnapshot(c);
      if (n === 0) continue;
      if (c.snapshotMemory) {
        if (shared.has(c.snapshotMemory)) continue;
        shared.add(c.snapshotMemory);
      }
      unsent += n;
    }
    const adds = typeof json !== 'string' && shared.has(json.buffer) ? 0 : json.length;
    return unsent > 0 && unsent + adds > STREAM_LIMITS.snapshotBytesInFlight;
  }

  private beat(): void {
    for (const c of this.clients) if (!c.queue) this.write(c, ': heartbeat\n\n');
  }

  /** Ends every stream (shutdown): clients reconnect elsewhere with their Last-Event-ID. */
  closeAll(): void {
    clearInterval(this.heartbeat);
    if (this.freshnessTimer) clearTimeout(this.freshnessTimer);
    this.endClients();
  }

  private end(c: Client): void {
    this.clients.delete(c);
    // a client still waiting for its snapshot has no head yet: ending the response here would send a bare 200
    // and leave the route writing a second head (ERR_HTTP_HEADERS_SENT); connect answers it instead
    if (c.queue !== null) c.ended = true;
    else c.out.end();
  }

  private endClients(): void {
    for (const c of [...this.clients]) this.end(c);
  }
}

/** Whether a filtered client sees anything of a version's changes (components and health: always). */
function seesAny(f: StateFilter, canonical: string, e: HistoryEntry, timeline: boolean): boolean {
  const changes = e.changes;
  if (changes.components.length > 0 || changes.sources !== undefined) return true;
  if (timeline && changes.passed && (['app_states', 'tasks'] as const).some((d) => changes.passed![d].some((p) => passedMatches(d, p, f)))) return true;
  if (changes.chart_repo !== undefined && seesChartRepo(f, canonical, e)) return true;
  return changes.app_states.some((c) => (c.before !== undefined && appMatches(c.before, f)) || (c.now !== undefined && appMatches(c.now, f)))
    || changes.tasks.some((c) => (c.before !== undefined && taskMatches(c.before, f)) || (c.now !== undefined && taskMatches(c.now, f)));
}

/**
 * Whether a filtered client sees a chart_repo change: an item its filter keeps, or held and now gone, or its
 * narrowed frame moving other than in its times. Another user's items moving move the frame's last_update (and
 * nothing else of this client's frame): no event, as its filtered /state keeps its ETag (store-queries.ts).
 */
function seesChartRepo(f: StateFilter, canonical: string, e: HistoryEntry): boolean {
  const ch = e.changes.chart_repo!;
  if (!hasChartFilter(f)) return true;
  if (CHART_LISTS.some((list) => ch[list].some((c) => chartItemSeen(list, c, f) || chartItemHeld(list, c, f)))) return true;
  if (ch.frame === undefined) return false;
  const prev = e.framePrev;
  if (prev === undefined) return true;
  const seen = (e.frameMovedFor ??= new Map());
  let moved = seen.get(canonical);
  if (moved === undefined) seen.set(canonical, (moved = narrowedFrameKey(parsedFrame(ch), f) !== narrowedFrameKey(parsedFrame(prev), f)));
  return moved;
}

/** A frame as a filtered client gets it, less the members that only tell time passing. */
function narrowedFrameKey(frame: ChartRepoStatus, f: StateFilter): string {
  return bodyContentKey(JSON.stringify(filterChartFrame(frame, f)));
}

/** a chart_repo item a filtered client gets (upserted) */
function chartItemSeen(list: ChartList, c: ChangedChartItem, filter: StateFilter): boolean {
  return c.json !== undefined && chartItemVisible(list, c.facets ?? {}, filter);
}

/** a chart_repo item a filtered client held before this change */
function chartItemHeld(list: ChartList, c: ChangedChartItem, filter: StateFilter): boolean {
  return c.before !== undefined && chartItemVisible(list, c.before, filter);
}

/** What of the client's snapshot is still in its buffer (writes leave in order; the units are the buffer's). */
function unsentSnapshot(c: Client): number {
  if (c.snapshotEnd === 0 || c.out.destroyed) return 0;
  return Math.max(0, c.snapshotEnd - (c.written - c.out.writableLength));
}

/** A `?view=summary` event: the version's id, `{version, timestamp, summary}`, and `sources` when health moved. */
function summaryEvent(kind: 'snapshot' | 'change', epoch: string, e: HistoryEntry, withSources: boolean): string {
  const sources = withSources && e.changes.sources !== undefined ? `,"sources":${e.changes.sources}` : '';
  return `id: ${eventId(epoch, e.version, e.content)}\nevent: ${kind}\n`
    + `data: {"version":${e.version},"timestamp":${JSON.stringify(e.timestamp)},"summary":${JSON.stringify(e.summary)}${sources}}\n\n`;
}

/**
 * chart_repo's changes as a stream event carries them: `{frame?, upserts: {list: {key: item}}, removed: {list:
 * [key]}}`; a filtered client gets the items its filter keeps (as a filtered /state holds them), and the
 * removal of an item it held that is gone or no longer matches: never a key of an item it could not see.
 * null when a filtered client sees nothing.
 */
export function renderChartChanges(ch: ChartRepoChanges, filter: StateFilter | null): string | null {
  const parts: string[] = [];
  if (ch.frame !== undefined) {
    parts.push(`"frame":${filter ? JSON.stringify(filterChartFrame(parsedFrame(ch), filter)) : ch.frame}`);
  }
  const upserts: string[] = [];
  const removed: string[] = [];
  for (const list of CHART_LISTS) {
    const seen = (c: ChangedChartItem) => (filter ? chartItemSeen(list, c, filter) : c.json !== undefined);
    const held = (c: ChangedChartItem) => (filter ? chartItemHeld(list, c, filter) : c.before !== undefined);
    const up = ch[list].filter(seen);
    const gone = ch[list].filter((c) => !seen(c) && (filter ? held(c) : c.json === undefined));
    if (up.length) upserts.push(`${JSON.stringify(list)}:{${up.map((c) => `${JSON.stringify(c.key)}:${c.json}`).join(',')}}`);
    if (gone.length) removed.push(`${JSON.stringify(list)}:${JSON.stringify(gone.map((c) => c.key))}`);
  }
  if (filter && parts.length === 0 && upserts.length === 0 && removed.length === 0) return null;
  parts.push(`"upserts":{${upserts.join(',')}}`, `"removed":{${removed.join(',')}}`);
  return `{${parts.join(',')}}`;
}

/** A version's chart_repo frame, parsed once for all its filtered clients (not once per client). */
const frames = new WeakMap<ChartRepoChanges, ChartRepoStatus>();
function parsedFrame(ch: ChartRepoChanges): ChartRepoStatus {
  let f = frames.get(ch);
  if (!f) frames.set(ch, (f = JSON.parse(ch.frame!) as ChartRepoStatus));
  return f;
}

/** An image is visible when one of the pairs holding it matches the filter's user and source. */
function chartItemVisible(list: ChartList, f: Facets, filter: StateFilter): boolean {
  if (list !== 'images') return chartItemMatches(f, filter);
  if (filter.app_name !== undefined && f.app_name !== filter.app_name) return false;
  if (filter.user_id === undefined && filter.source_id === undefined) return true;
  const users = f.users ?? [];
  const sources = f.sources ?? [];
  return users.some((u, i) => (filter.user_id === undefined || u === filter.user_id)
    && (filter.source_id === undefined || sources[i] === filter.source_id));
}

function matchesNow(domain: Domain, c: ChangedEntity, f: StateFilter): boolean {
  if (!c.now) return false;
  if (domain === 'app_states') return appMatches(c.now, f);
  if (domain === 'tasks') return taskMatches(c.now, f);
  return true;
}

/** Whether a filtered client sees an app or task that came and went within a version (its timeline entries). */
function passedMatches(domain: 'app_states' | 'tasks', p: PassedEntity, f: StateFilter): boolean {
  return domain === 'app_states' ? appMatches(p.facets, f) : taskMatches(p.facets, f);
}

/** A change a filtered client sees: it matches now, or it matched before (then it is a removal to them). */
function visible(domain: Domain, c: ChangedEntity, f: StateFilter): boolean {
  if (domain === 'components') return true;
  const test = domain === 'app_states' ? appMatches : taskMatches;
  return (c.now !== undefined && test(c.now, f)) || (c.before !== undefined && test(c.before, f));
}

/**
 * A filtered summary over one version's changes: forward (`way` 1: from before the version to it) or back
 * (-1: from the version to before it). `global`: the unfiltered summary at the version arrived at, whose
 * component count every filter shares.
 */
function movedSummary(from: RuntimeSummary, changes: VersionChanges, f: StateFilter, way: 1 | -1, global: RuntimeSummary): RuntimeSummary {
  const s = { ...from };
  for (const c of changes.app_states) {
    if (c.before && appMatches(c.before, f)) countFacet(s, 'app_states', c.before, -way as 1 | -1);
    if (c.now && appMatches(c.now, f)) countFacet(s, 'app_states', c.now, way);
  }
  for (const c of changes.tasks) {
    if (c.before && taskMatches(c.before, f)) countFacet(s, 'tasks', c.before, -way as 1 | -1);
    if (c.now && taskMatches(c.now, f)) countFacet(s, 'tasks', c.now, way);
  }
  s.active_components = global.active_components;
  return s;
}

/** The summary's own rules (store/summary.ts), on the facets a change carries (an app's status is its health). */
function countFacet(s: RuntimeSummary, domain: 'app_states' | 'tasks', facets: Facets, sign: 1 | -1): void {
  if (domain === 'app_states') countAppFacets(s, { stuck: facets.stuck, health: facets.status }, sign);
  else countTask(s, facets, sign);
}
