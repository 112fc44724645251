/** An answer up to this many UTF-16 units is joined into runs before it is encoded (utf8Of). */
export const JOIN_UP_TO_CHARS = 1024 * 1024;

/**
 * A run joins pieces up to about this many UTF-16 units (one piece longer than that is a run of its own): even
 * as a two-byte string a run stays under V8's largest regular object (128 KiB). A longer string is allocated in
 * large-object space, a page mapped for it and counted toward the old generation: at 50,000 apps, joining a
 * ~190 kB answer whole took ~0.7-1.2 ms against ~0.06 ms in runs, and most of the store's time under load.
 */
export const RUN_CHARS = 32 * 1024;

/**
 * Pieces of JSON as UTF-8, encoded into one fresh ArrayBuffer (to be transferred: no copy crosses). A small answer
 * (a user's, a page: hundreds of pieces, an app's JSON, a comma, …) is joined first into runs and encoded a run
 * per call: each measure and encode call costs its own, whatever its length (a 58 kB answer of 400 pieces 2.5×
 * faster so). A large one (the whole body: 90 MB at 50,000 apps) is encoded piece by piece, so no second copy of
 * it is ever made.
 */
export function utf8Of(parts: readonly string[]): ArrayBuffer {
  let chars = 0;
  for (const p of parts) chars += p.length;
  const pieces = chars <= JOIN_UP_TO_CHARS ? runsOf(parts) : parts;
  let bytes = 0;
  for (const p of pieces) bytes += Buffer.byteLength(p, 'utf8');
  const buffer = new ArrayBuffer(bytes);
  const into = Buffer.from(buffer);
  let at = 0;
  for (const p of pieces) at += into.write(p, at, 'utf8');
  return buffer;
}

/** The pieces joined in order into runs of about RUN_CHARS. */
function runsOf(parts: readonly string[]): string[] {
  const runs: string[] = [];
  let from = 0;
  let chars = 0;
  for (let i = 0; i < parts.length; i++) {
    const n = parts[i]!.length;
    if (chars > 0 && chars + n > RUN_CHARS) {
      runs.push(parts.slice(from, i).join(''));
      from = i;
      chars = 0;
    }
    chars += n;
  }
  if (from < parts.length) runs.push(parts.slice(from).join(''));
  return runs;
}
