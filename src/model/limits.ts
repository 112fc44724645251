/**
 * Bounds enforced at every boundary (source rows, Chart Repo payloads, NATS messages, query strings).
 * A value past a bound is rejected by its schema and the item holding it is dropped and counted.
 */
export const LIMITS = {
  /** identifiers: user ids, app names, task ids, source ids */
  id: 256,
  /** free text: messages, errors, stage details */
  text: 8192,
  /** query-string filter values */
  queryValue: 256,
  /** items in one list of a Chart Repo answer */
  listItems: 50_000,
  /** nesting depth of free-form JSON (metadata) */
  jsonDepth: 8,
  /** serialized size of free-form JSON (metadata) */
  jsonBytes: 64 * 1024,
} as const;
