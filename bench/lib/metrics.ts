/** One family of a Prometheus text (the sidecar's /metrics) with one label: its samples by that label's value. */
export function byLabel(metrics: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{${label}="([^"]+)"\\} (\\S+)$`, 'gm'))) out[m[1]!] = Number(m[2]);
  return out;
}

/** The sum of a family's samples by one label (every thread, every kind). */
export const sumByLabel = (metrics: string, name: string, label: string): number =>
  Object.values(byLabel(metrics, name, label)).reduce((a, b) => a + b, 0);
