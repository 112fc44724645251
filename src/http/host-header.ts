import type { IncomingMessage } from 'node:http';

/**
 * More than one Host header: node keeps the first and drops the rest (IncomingMessage), so the request would be
 * answered for a host the client may not have meant. RFC 9112 §3.2: a server answers 400 to that.
 */
export function repeatedHost(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  let hosts = 0;
  // rawHeaders alternates names and values
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host' && ++hosts > 1) return true;
  }
  return false;
}
