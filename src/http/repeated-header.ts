/**
 * Whether the request sent the field `lowerName` more than once (names are case-insensitive; rawHeaders
 * alternates names and values). node keeps the first Host and drops the rest (IncomingMessage), so a request
 * with two would be answered for a host the client may not have meant (RFC 9112 §3.2: answer 400); two
 * Authorization fields are joined by node, which the token check must not see as one.
 */
export function repeatedHeader(rawHeaders: readonly string[], lowerName: string): boolean {
  let seen = 0;
  for (let at = 0; at < rawHeaders.length; at += 2) {
    const name = rawHeaders[at]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName && ++seen > 1) return true;
  }
  return false;
}
