/** The runtime API is served under both: the market mounts its API under /app-store. */
export const BASE_PATHS = ['/api/v2/runtime', '/app-store/api/v2/runtime'] as const;

/** Where `GET /` sends whoever opens the bare host (README: "dashboards at http://localhost:8080"). */
export const DASHBOARD_HOME = `${BASE_PATHS[0]}/dashboard`;
