import * as v from 'valibot';
import { GoEnvelope, GoRuntimeSnapshot } from '../../src/model/go-wire.ts';

/**
 * The strict "Go client" check: decodes a snapshot (or a `{success, message, data}` envelope, as JSON text
 * or a value) with the schemas written from docs/go-wire.md, and throws with every misfit's path, as a Go client
 * decoding it with the market's structs would fail (or read a zero where a key is missing).
 */
export function expectGoWire(body: unknown): void {
  const value = typeof body === 'string' ? JSON.parse(body) as unknown : body;
  const isEnvelope = value !== null && typeof value === 'object' && 'success' in value;
  const r = isEnvelope ? v.safeParse(GoEnvelope, value) : v.safeParse(GoRuntimeSnapshot, value);
  if (r.success) return;
  const lines = r.issues.slice(0, 10).map((i) => {
    const path = i.path?.map((p) => String(p.key)).join('.') ?? '(root)';
    return `${path}: ${i.message} (got ${JSON.stringify(i.input)?.slice(0, 80)})`;
  });
  throw new Error(`a Go client would not decode this snapshot:\n  ${lines.join('\n  ')}`);
}
