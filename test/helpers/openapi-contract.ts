import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { FRESH_AS_OF } from '../../src/http/freshness.ts';
import { buildOpenApi } from '../../src/http/openapi.ts';
import { expectGoWire } from './go-wire.ts';

/**
 * Checks real answers against openapi.json: the status must be documented for the path and method, every
 * header the document gives it must be there (when required) and fit its schema, and a JSON body must validate
 * against the documented schema (ajv, JSON Schema 2020-12); a snapshot (…/state, the stream's full `snapshot`
 * events) must also decode as a Go client of the market decodes it (expectGoWire). Records every (method, path
 * template, status) it saw.
 */

type Schema = Record<string, unknown>;
interface Documented { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }>; 'x-sse-events'?: Record<string, Schema> }
type Operation = { responses: Record<string, Documented> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { responses: Record<string, Documented> } };

/**
 * What a path the document does not list answers, by status, as its description says (the shared responses of
 * components): 401 before a route when a token is set, 404 for GET and HEAD, 405 for any other method, 204 for a
 * preflight when CORS is set; and what any request may get before routing (400, 408, 414, 417, 431) or on a fault (500).
 */
const UNLISTED: Record<number, string> = {
  204: 'Preflight', 401: 'Unauthorized', 404: 'NotFound', 405: 'MethodNotAllowed',
  400: 'MalformedRequest', 408: 'RequestTimeout', 414: 'UriTooLong', 417: 'ExpectationFailed', 431: 'HeadersTooLarge', 500: 'InternalError',
};

export const METHODS = ['get', 'head', 'options', 'post', 'put', 'patch', 'delete', 'trace'] as const;

/**
 * The headers that are part of the contract (a client acts on them): an answer carrying one its documented
 * response does not declare fails, so a header dropped from the document (or one the code starts sending) is
 * caught, not only one the document promises and the answer lacks. Lower case, as Headers gives them.
 */
const CONTRACT_HEADERS = [
  'etag', FRESH_AS_OF.toLowerCase(), 'retry-after', 'www-authenticate', 'allow', 'location',
  'access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age',
  'access-control-allow-credentials', 'access-control-expose-headers',
];

// both are CommonJS: under NodeNext the default import is the module object, whose `default` is the export
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

/**
 * The schema as a closed contract: every object schema with properties is closed (`additionalProperties:
 * false`), so an answer carrying a key the document does not declare fails the contract test. The published
 * document stays open (clients may meet new keys); the test holds the code to what it documents. An `allOf` of
 * object schemas (Go's keys, then our additive ones) is merged into one object first, so each part's keys count
 * for the other; one that cannot be merged stays as it is, open.
 */
function closed(schema: unknown, seen = new Map<unknown, unknown>()): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  const memo = seen.get(schema);
  if (memo) return memo;
  if (Array.isArray(schema)) return schema.map((s) => closed(s, seen));
  const s = schema as Schema;
  if (Array.isArray(s.allOf)) {
    const merged = mergedObjects(s.allOf as Schema[]);
    if (merged) {
      const { allOf: _, ...rest } = s;
      const out = closed({ ...rest, ...merged }, seen);
      seen.set(schema, out);
      return out;
    }
  }
  const out: Schema = {};
  seen.set(schema, out);
  for (const [k, v] of Object.entries(s)) out[k] = closed(v, seen);
  const open = 'additionalProperties' in out || 'unevaluatedProperties' in out || 'patternProperties' in out;
  if (!open && 'properties' in out) out.additionalProperties = false;
  return out;
}

const isMap = (a: unknown): a is Schema => typeof a === 'object' && a !== null && Object.keys(a).length > 0;

/**
 * Object schemas that all must hold, as one (properties and required joined, shared properties and the values of
 * maps merged), or null when one of them is not a plain object schema.
 */
function mergedObjects(parts: Schema[]): Schema | null {
  // a free-form object (`additionalProperties: {}`, our JsonObject) counts: it keeps the merged object open
  const plain = (p: Schema) => typeof p === 'object' && p !== null && !('anyOf' in p || 'oneOf' in p || 'allOf' in p)
    && ('properties' in p || 'additionalProperties' in p);
  if (!parts.every(plain)) return null;
  const merge = (xs: Schema[]) => (xs.length === 1 ? xs[0] : mergedObjects(xs) ?? { allOf: xs });
  const properties: Record<string, Schema[]> = {};
  const required = new Set<string>();
  for (const part of parts) {
    for (const [k, v] of Object.entries((part.properties ?? {}) as Record<string, Schema>)) (properties[k] ??= []).push(v);
    for (const r of (part.required as string[] | undefined) ?? []) required.add(r);
  }
  // a key one part names and another holds to its map's values (Go's components by name, ours as a map): both
  for (const part of parts) {
    if (!isMap(part.additionalProperties)) continue;
    for (const [k, xs] of Object.entries(properties)) if (!(k in ((part.properties ?? {}) as Schema))) xs.push(part.additionalProperties);
  }
  const out: Schema = { type: 'object' };
  if (Object.keys(properties).length) out.properties = Object.fromEntries(Object.entries(properties).map(([k, xs]) => [k, merge(xs)]));
  if (required.size) out.required = [...required];
  const extra = parts.map((p) => p.additionalProperties);
  // maps: their values merged; a part open to any key keeps the whole open (its extra keys are allowed by it)
  if (extra.every(isMap)) out.additionalProperties = merge(extra as Schema[]);
  else {
    const open = extra.find((x) => x !== undefined && x !== false);
    if (open !== undefined) out.additionalProperties = open;
  }
  return out;
}

/**
 * A 400 answered before the route runs (MalformedRequest: node's parser, the Host checks, @hono/node-server, a
 * path or query that is not valid percent-encoding, query.ts malformedTarget), by its message. Any other 400 is
 * the route's own (a parameter it refuses: `invalid query parameter …`, `user_id is longer than …`, `give
 * app_name and/or user_id`), which its operation must document as BadRequest.
 */
const beforeRouting400 = (message: string) => message.startsWith('malformed HTTP request: ') || message.includes(': malformed percent-encoding (');

const BAD_REQUEST = '#/components/responses/BadRequest';

export async function contractChecker(opts: { corsOrigin?: string } = {}) {
  /** as built: each response still a $ref, so the route's own 400 (BadRequest) is told from the generic one */
  const raw = buildOpenApi() as { paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string }> }>> };
  const doc = (await SwaggerParser.dereference(structuredClone(raw) as never)) as unknown as Doc;
  const ownBadRequest = (template: string, m: string) => raw.paths[template]?.[m]?.responses?.['400']?.$ref === BAD_REQUEST;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<Schema, ReturnType<typeof ajv.compile>>();
  /** `method template status` of every answer checked */
  const seen = new Set<string>();

  const validate = (schema: Schema, value: unknown, what: string) => {
    let v = validators.get(schema);
    if (!v) validators.set(schema, (v = ajv.compile(closed(schema) as Schema)));
    expect(v(value), `${what}: ${JSON.stringify(v.errors?.slice(0, 3))}`).toBe(true);
  };

  /** The documented path template a concrete path falls under, if one does. */
  function listedTemplate(path: string): string | undefined {
    const parts = path.split('?')[0]!.split('/');
    return Object.keys(doc.paths).find((t) => {
      const tp = t.split('/');
      return tp.length === parts.length && tp.every((seg, i) => seg.startsWith('{') || seg === parts[i]);
    });
  }

  /** The documented path template a concrete path falls under. */
  function templateOf(path: string): string {
    const match = listedTemplate(path);
    if (!match) throw new Error(`no documented path for ${path}`);
    return match;
  }

  /**
   * Checks one answer against the document and records it; returns the parsed JSON body (text for other bodies,
   * null for none). `fresh`: every source has succeeded once, so the freshness header is on every answer that
   * documents it (before that it is absent by design).
   */
  async function check(method: string, path: string, res: Response, expected?: number, { fresh = false } = {}): Promise<unknown> {
    const template = templateOf(path);
    const m = method.toLowerCase();
    const op = doc.paths[template]![m];
    expect(op, `${method} ${template} is documented`).toBeDefined();
    if (expected !== undefined) expect(res.status, `${method} ${path}`).toBe(expected);
    const documented = op!.responses[String(res.status)];
    expect(documented, `${method} ${template} answered ${res.status}, which the document lacks`).toBeDefined();
    seen.add(`${m} ${template} ${res.status}`);
    // the route's own 400 (known by its message; a HEAD's has none): documented as the route's, not only as the
    // malformed request every operation can get. Checked first: that is what a header or body misfit would mean
    const message = res.status === 400 && m !== 'head' ? ((await res.clone().json()) as { message?: unknown }).message : undefined;
    if (typeof message === 'string' && !beforeRouting400(message)) {
      expect(ownBadRequest(template, m), `${method} ${path} answered its route's own 400 (${message}), which ${m} ${template} does not document (BadRequest)`).toBe(true);
      seen.add(`${m} ${template} 400 own`);
    }
    return checkAnswer(documented!, method, path, res, template, fresh);
  }

  /**
   * Checks an answer to a path the document does not list against what its description says such a path answers
   * (UNLISTED: the shared response of that status); returns the parsed JSON body (null for none).
   */
  async function checkUnlisted(method: string, path: string, res: Response, expected: number): Promise<unknown> {
    expect(listedTemplate(path), `${path} is not a listed path`).toBeUndefined();
    expect(res.status, `${method} ${path}`).toBe(expected);
    const name = UNLISTED[res.status];
    expect(name, `${method} ${path} (unlisted) answered ${res.status}, which the document's description does not give`).toBeDefined();
    return checkAnswer(doc.components.responses[name!]!, method, path, res, null, false);
  }

  /** The headers and body of an answer against the response documented for it. */
  async function checkAnswer(documented: Documented, method: string, path: string, res: Response, template: string | null, fresh: boolean): Promise<unknown> {
    const m = method.toLowerCase();
    // every header documented for the answer: a required one (or the freshness header, once known) must be
    // there, and each one there must fit its schema (a weak or strong tag, a date-time, a constant)
    let freshMissing = false;
    for (const [name, promised] of Object.entries(documented.headers ?? {}) as [string, { required?: boolean; schema: Schema }][]) {
      const value = res.headers.get(name);
      const what = `${name} on ${method} ${path} ${res.status}`;
      if (value === null) {
        expect(promised.required, `${what} is missing`).not.toBe(true);
        freshMissing ||= fresh && name === FRESH_AS_OF;
        continue;
      }
      validate(promised.schema, promised.schema.type === 'integer' && /^\d+$/.test(value) ? Number(value) : value, what);
    }
    const declared = new Set(Object.keys(documented.headers ?? {}).map((n) => n.toLowerCase()));
    for (const name of CONTRACT_HEADERS) {
      expect(!res.headers.has(name) || declared.has(name), `${name} on ${method} ${path} ${res.status} is not declared by its documented response`).toBe(true);
    }
    if (res.status === 204 && opts.corsOrigin) expect(res.headers.get('access-control-allow-origin')).toBe(opts.corsOrigin);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    // the freshness header, once known, is on every answer that documents it, but for a 400 answered before the
    // route ran (the document says so); a HEAD's message cannot be read, so it is held to the header
    const freshIsMissing = (body: unknown) => {
      const message = (body as { message?: unknown } | null)?.message;
      const exempt = res.status === 400 && typeof message === 'string' && beforeRouting400(message);
      expect(freshMissing && !exempt, `${FRESH_AS_OF} on ${method} ${path} ${res.status} is missing`).toBe(false);
    };
    if (m === 'head' || !documented.content) {
      // a HEAD of the stream may not end (the caller aborts it); every other answer is read to its end
      if (type !== 'text/event-stream') await res.arrayBuffer();
      if (m !== 'head') expect(type === '' || res.status === 304, `${method} ${path} ${res.status} has no documented body`).toBe(true);
      freshIsMissing(null);
      return null;
    }
    const media = documented.content[type];
    expect(media, `${method} ${path} ${res.status}: content type ${type} is documented`).toBeDefined();
    if (type === 'text/event-stream') {
      freshIsMissing(null);
      return null; // the caller reads the stream
    }
    const text = await res.text();
    if (type !== 'application/json') {
      freshIsMissing(null);
      return text;
    }
    const body = JSON.parse(text) as unknown;
    freshIsMissing(body);
    validate(media!.schema, body, `${method} ${path} ${res.status}`);
    if (res.status === 200 && template?.endsWith('/state')) expectGoWire(body);
    return body;
  }

  /** Checks one change-stream event's data against the schema documented for its kind. */
  function checkEvent(e: { event: string; id?: string; data: string }): void {
    const events = doc.paths['/api/v2/runtime/events']!.get!.responses['200']!['x-sse-events']!;
    const schema = events[e.event];
    expect(schema, `event kind ${e.event} is documented`).toBeDefined();
    const data = JSON.parse(e.data) as unknown;
    validate(schema!, data, `event ${e.event}`);
    // a full snapshot (not ?view=summary's {version, timestamp, summary})
    if (e.event === 'snapshot' && typeof data === 'object' && data !== null && 'app_states' in data) expectGoWire(data);
    if (e.event === 'freshness') expect(e.id).toBeUndefined();
    else expect(e.id).toMatch(/^\w+-\d+\.[\w-]{22}$/);
  }

  /**
   * Every documented `method template status`, and `get template 400 own` for each GET that documents its route's
   * own 400 (BadRequest): reached only by a parameter the route refuses, not by a malformed request.
   */
  function documented(): string[] {
    const out: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        for (const status of Object.keys(item[m]?.responses ?? {})) out.push(`${m} ${path} ${status}`);
        if (m === 'get' && ownBadRequest(path, m)) out.push(`${m} ${path} 400 own`);
      }
    }
    return out;
  }

  return { doc, check, checkUnlisted, checkEvent, templateOf, seen, documented };
}
