import type { Context, Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { withBody, type AsyncQueries, type BodyOf, type CurrentVersion } from './current-version.ts';
import { rebuildingAnswer, STORE_UNAVAILABLE, TOO_MANY_STREAM_CLIENTS, STREAM_SNAPSHOTS_BUSY, unavailableAnswer } from './rebuilding.ts';
import { answerText, errorBody, OK_PREFIX_BYTES } from './envelope.ts';
import { FRESH_AS_OF, type FreshnessHolder } from './freshness.ts';
import { parseStreamQuery } from './query.ts';
import { STREAM_HEADERS, type Attached, type ChangeStream, type StreamSnapshot } from './stream.ts';
import { CALL_DEADLINE_MS, callWithDeadline } from '../threads.ts';

export interface EventsDeps {
  current(): CurrentVersion | null;
  queries(): AsyncQueries | null;
  /** a restarted store is rebuilding: new clients wait (see RuntimeAppDeps) */
  rebuilding?(): boolean;
  stream?: ChangeStream;
  freshness?: FreshnessHolder;
  /** the version's /state body when it is not here yet (see RuntimeAppDeps) */
  body?: BodyOf;
}


/** GET …/events: the change stream (Server-Sent Events), with the same filters as /state. */
export function registerEvents(api: Hono, deps: EventsDeps, varyOrigin = false): void {
  api.get('/events', async (c) => {
    const stream = deps.stream;
    const cur = deps.current();
    if (!stream || !cur) return unavailableAnswer(c, deps);
    // the filters, the view, timeline and last_event_id: each validated (STREAM_QUERY_SCHEMA), a misfit is a 400
    const parsed = parseStreamQuery(c.req.queries());
    if (!parsed.ok) return c.json(errorBody(parsed.message), 400);
    // a new client's snapshot would come from the last store's bytes or from part of the state
    const rebuilding = rebuildingAnswer(c, deps);
    if (rebuilding) return rebuilding;
    // HEAD: the stream's headers, no stream. Hono answers HEAD by running this GET route and replacing its
    // response with a bodiless copy, so writing to the node response here would send headers twice. A filtered
    // GET would ask the store for its snapshot: while the store is silent (it let a call's deadline pass), that
    // GET is a 503, and so is its HEAD (a hang not yet noticed is found by the GET alone: HEAD asks nothing). So
    // is a GET past the client limit. (Whether snapshots in flight are too many depends on the snapshot's size,
    // which HEAD does not fetch: that 503 only a GET gets.)
    if (c.req.method === 'HEAD') {
      if (stream.full()) return answer(c, 'full');
      if (parsed.canonical !== '' && !parsed.summaryOnly && !deps.queries()) return answer(c, 'unavailable');
      return c.body(null, 200, STREAM_HEADERS);
    }
    const out = (c.env as HttpBindings | undefined)?.outgoing;
    // the sidecar's HTTP thread always serves through @hono/node-server (thread.ts getRequestListener), which hands
    // every request its node response: without one this app is run some other way (app.request in a test), a
    // fault of the caller, answered as any other unhandled error (the app's onError: a logged 500, documented)
    if (!out) throw new Error('the change stream needs the node server: no node response to write to');
    // the stream writes its own head: what the middleware set on the way here (CORS) goes on it (a 503
    // answered through Hono below carries them once: node lets writeHead's headers win over set ones), and
    // the header every API answer carries
    for (const [name, value] of c.res.headers) out.setHeader(name, value);
    if (varyOrigin) out.setHeader('Vary', 'Origin');
    const freshAsOf = deps.freshness?.current?.freshAsOf;
    if (freshAsOf) out.setHeader(FRESH_AS_OF, freshAsOf);
    if (parsed.summaryOnly) return answer(c, stream.connectSummary(out));
    const filter = parsed.canonical === '' ? null : parsed.filter;
    // the header wins when it names an event (an empty one names none: the query's may)
    const lastEventId = c.req.header('last-event-id')?.trim() || parsed.lastEventId;

    const snapshot = async (): Promise<StreamSnapshot> => {
      if (!filter) {
        const now = await withBody(deps.current()!, deps.body);
        // the body's own bytes (no string, no copy: every new client shares them); no parse: an unfiltered
        // client's events carry the store's own summary
        const json = now.body.subarray(OK_PREFIX_BYTES, now.body.byteLength - 1);
        return { version: now.version, content: now.content, json };
      }
      const q = deps.queries();
      if (!q) throw new Error('store unavailable');
      const a = await callWithDeadline(q.state(filter), CALL_DEADLINE_MS, 'store.state');
      const json = answerText(a.json!);
      return { version: a.version, content: a.content, json, summary: JSON.parse(json).summary };
    };
    // ?timeline=true: change events also carry the timeline entries of the apps and tasks they touch
    return answer(c, await stream.connect(out, filter, parsed.canonical, lastEventId, snapshot, parsed.timeline));
  });
}

/** The route's answer once the stream had its say: it wrote the response, or it refused the client (503). */
function answer(c: Context, attached: Attached): Response {
  if (attached === 'attached') return RESPONSE_ALREADY_SENT;
  if (attached === 'full') return c.json(errorBody(TOO_MANY_STREAM_CLIENTS), 503, { 'Retry-After': '5' });
  if (attached === 'busy') return c.json(errorBody(STREAM_SNAPSHOTS_BUSY), 503, { 'Retry-After': '5' });
  return c.json(errorBody(STORE_UNAVAILABLE), 503, { 'Retry-After': '1' });
}
