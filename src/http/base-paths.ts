/** The runtime API is served under both: the market mounts its API under /app-store. */
export const BASE_PATHS = ['/api/v2/runtime', '/app-store/api/v2/runtime'] as const;
