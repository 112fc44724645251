/**
 * Everything written to this process's stdout and stderr from start() to stop() — a worker thread's console
 * reaches them too — still passed on: what a test checks holds nothing but the JSON log.
 */
export function capturePrinted() {
  const printed: string[] = [];
  const err = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  const tee = (write: typeof err) => ((chunk: string | Uint8Array, ...rest: never[]) => {
    printed.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  return {
    printed,
    start(): void {
      process.stderr.write = tee(err);
      process.stdout.write = tee(out);
    },
    stop(): void {
      process.stderr.write = err;
      process.stdout.write = out;
    },
  };
}
