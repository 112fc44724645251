/**
 * Ends a thread that stops answering. A thread stuck in a loop never dies on its own, and comlink never
 * rejects a call to it, so every other guard (deadlines, exit handlers) would wait forever: the watchdog
 * pings it every `everyMs`, and when no ping was answered for `hungAfterMs` it calls `onHung` (the caller
 * terminates the thread; its exit handler replaces it and counts the restart).
 */
export class Watchdog {
  private lastAnswer = Date.now();
  /** a ping is out; bumped by reset(), so a ping sent to an earlier thread answers nothing */
  private generation = 0;
  private asking = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ping: () => Promise<unknown>,
    private readonly onHung: (silentMs: number) => void,
    private readonly hungAfterMs: number,
    everyMs = Math.min(5000, Math.max(50, Math.floor(hungAfterMs / 4))),
  ) {
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  /** A new thread: it has all of hungAfterMs from now. */
  reset(): void {
    this.generation += 1;
    this.asking = false;
    this.lastAnswer = Date.now();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const silent = Date.now() - this.lastAnswer;
    if (silent > this.hungAfterMs) {
      this.reset();
      this.onHung(silent);
      return;
    }
    if (this.asking) return;
    this.asking = true;
    const gen = this.generation;
    // a rejected ping (the thread is gone) is left to the exit handler: only an answer counts here
    this.ping().then(() => {
      if (gen !== this.generation) return;
      this.lastAnswer = Date.now();
      this.asking = false;
    }, () => {
      if (gen === this.generation) this.asking = false;
    });
  }
}
