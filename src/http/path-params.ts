import * as v from 'valibot';
import { LIMITS } from '../model/index.ts';

/**
 * The path parameters of the routes, as valibot schemas: the routes validate with them (a misfit is a 400
 * naming the parameter) and the OpenAPI document converts them (openapi.ts).
 */

/** A path identifier: bounded like every identifier. */
const id = (name: string) => v.pipe(
  v.string(),
  v.minLength(1, `${name} must not be empty`),
  v.maxLength(LIMITS.id, `${name} is longer than ${LIMITS.id} characters`),
);

/** …/apps/{user_id}/{source_id}/{app_name}[/history] */
export const APP_PATH_SCHEMA = v.object({ user_id: id('user_id'), source_id: id('source_id'), app_name: id('app_name') });
/** …/tasks/{task_id}[/history] */
export const TASK_PATH_SCHEMA = v.object({ task_id: id('task_id') });
/** …/users/{user_id}/apps and …/tasks */
export const USER_PATH_SCHEMA = v.object({ user_id: id('user_id') });

type PathSchema = v.ObjectSchema<Record<string, v.GenericSchema<string>>, undefined>;

export type ParsedPath<S extends PathSchema> = { ok: true; params: v.InferOutput<S> } | { ok: false; message: string };

/** A route's path parameters (as Hono decoded them) validated against `schema`; the first misfit is the message. */
export function parsePath<S extends PathSchema>(schema: S, params: Record<string, string>): ParsedPath<S> {
  const parsed = v.safeParse(schema, params);
  return parsed.success ? { ok: true, params: parsed.output } : { ok: false, message: parsed.issues[0].message };
}
