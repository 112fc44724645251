/**
 * A Date as the Go module writes a database time (RFC 3339 in UTC, trailing zeros of the fraction trimmed:
 * `…00.120Z` → `…00.12Z`, `…00.000Z` → `…00Z`): what a test expects for a time read from PostgreSQL.
 */
export const goText = (d: Date): string => d.toISOString().replace(/\.?0+Z$/, 'Z');
