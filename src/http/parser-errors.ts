/**
 * What node's HTTP parser (llhttp) refused, in words a user understands: the answer names the problem, never
 * the parser's `HPE_…` code (a code means nothing to whoever reads the 400).
 */
const PARSER_ERRORS: Record<string, string> = {
  HPE_INVALID_URL: 'invalid request target (characters outside ASCII, spaces and controls must be percent-encoded)',
  HPE_INVALID_METHOD: 'invalid method',
  HPE_INVALID_HEADER_TOKEN: 'invalid character in a header name or value',
  HPE_INVALID_VERSION: 'invalid HTTP version',
  HPE_INVALID_CONSTANT: 'malformed request line',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length given twice, or together with Transfer-Encoding',
  HPE_INVALID_CONTENT_LENGTH: 'invalid Content-Length',
  HPE_INVALID_TRANSFER_ENCODING: 'invalid Transfer-Encoding',
  HPE_INVALID_CHUNK_SIZE: 'invalid chunk size',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'chunk extensions too large',
  HPE_LF_EXPECTED: 'malformed line ending',
  HPE_CR_EXPECTED: 'malformed line ending',
  HPE_STRICT: 'malformed line ending or chunk',
  HPE_UNEXPECTED_SPACE: 'unexpected space in the request line or a header',
  HPE_INVALID_EOF_STATE: 'the request ended before its body did',
  HPE_INVALID_STATUS: 'malformed request line',
  // the HTTP/2 connection preface ("PRI * HTTP/2.0"): a client speaking h2c to an HTTP/1.1 server
  HPE_PAUSED_H2_UPGRADE: 'HTTP/2 cleartext (h2c) is not supported here; use HTTP/1.1',
};

/** The reason of a parser error code; an unlisted code gets the general words, not itself. */
export function parserErrorMessage(code: string | undefined): string {
  return (code !== undefined && PARSER_ERRORS[code]) || 'the request could not be parsed as HTTP/1.1';
}
