import { LIVENESS_MS } from './liveness.ts';

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A minimal Server-Sent Events reader over fetch, for tests: collects events, waits for matching ones. */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: ctrl.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const reading = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const ev: SseEvent = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) { ev.data += line.slice(6); hasData = true; }
          }
          if (hasData) events.push(ev);
          for (const w of waiters) w();
        }
      }
    } catch { /* aborted */ }
    ended = true;
    for (const w of waiters) w();
  })();

  async function next(test: (e: SseEvent) => boolean, timeoutMs = LIVENESS_MS, from = 0): Promise<SseEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = events.slice(from).find(test);
      if (found) return found;
      if (ended) throw new Error('stream ended');
      if (Date.now() > end) throw new Error(`no matching event within ${timeoutMs} ms (got ${events.length})`);
      await new Promise<void>((resolve) => {
        const w = () => { waiters.delete(w); resolve(); };
        waiters.add(w);
        setTimeout(w, 100);
      });
    }
  }

  return {
    res, events, next,
    get ended() { return ended; },
    async close() { ctrl.abort(); await reading; },
  };
}
