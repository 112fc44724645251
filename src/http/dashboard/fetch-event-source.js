// The change stream for a page whose API needs a token: EventSource cannot send an Authorization header, so
// the stream is read with fetch. Only what live-state.js uses: open/error events, named events with `data`,
// readyState and close(). It does not reconnect by itself: an error closes it and the page falls back to
// polling, then tries again (as it does when an EventSource is refused).

const CLOSED = 2;

export class FetchEventSource extends EventTarget {
  /** @param {string} url @param {Record<string, string>} headers */
  constructor(url, headers) {
    super();
    this.readyState = 0;
    /** the last `id:` the stream sent (as EventSource keeps it): each event carries it as `lastEventId` */
    this.lastEventId = '';
    this.ctrl = new AbortController();
    void this.read(url, headers);
  }

  async read(url, headers) {
    try {
      const res = await fetch(url, { cache: 'no-store', headers: { Accept: 'text/event-stream', ...headers }, signal: this.ctrl.signal });
      if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await res.body?.cancel().catch(() => {});
        throw new Error(`HTTP ${res.status}`);
      }
      this.readyState = 1;
      this.dispatchEvent(new Event('open'));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        // an event ends at a blank line
        for (let end = buffered.search(/\r?\n\r?\n/); end >= 0; end = buffered.search(/\r?\n\r?\n/)) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
          this.dispatchBlock(block);
        }
      }
    } catch { /* refused, cut or closed: below */ }
    if (this.readyState !== CLOSED) {
      this.readyState = CLOSED;
      this.dispatchEvent(new Event('error'));
    }
  }

  /** One event's lines (text/event-stream): `event:` names it, `data:` lines join, `id:` sets the last event id; comments are skipped. */
  dispatchBlock(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    }
    if (data.length > 0) this.dispatchEvent(new MessageEvent(type, { data: data.join('\n'), lastEventId: this.lastEventId }));
  }

  close() {
    this.readyState = CLOSED;
    this.ctrl.abort();
  }
}
