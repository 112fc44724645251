/**
 * Order strings by UTF-16 code units, as Go's `<` on strings orders ids: the same content always renders the
 * same bytes, and localeCompare would load ICU's collation data (~3 MiB of the process's RSS) for ids that
 * have no locale.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
