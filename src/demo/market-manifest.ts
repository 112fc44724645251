/**
 * What the market stores of an app's manifest for the demo: ua.metadata (icon, title — a locale map for most
 * apps, a plain string for some, as real manifests differ) and ua.entrances (the declared entrances), plus the
 * shared entrances a middleware offers other apps. Derived from the catalog entry and the user alone, so
 * it needs no state of its own.
 */
interface ManifestEntrance {
  name: string;
  host: string;
  port: number;
  title: string;
  icon: string;
  authLevel: 'private' | 'public';
  url: string;
  openMethod: string;
  invisible: boolean;
}

export interface DemoManifest {
  metadata: { icon: string; title: string | Record<string, string> };
  entrances: ManifestEntrance[];
  shared_entrances: ManifestEntrance[];
}

const titleCase = (name: string): string => name.replace(/(^|-)(\w)/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase());

/** a small stable hash: the same app gets the same host every run, as a real install does */
function hostId(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** What a manifest is derived from: the catalog entry's fields (market-model.ts CatalogApp has them; this file
 * names them itself, as market-model.ts imports DemoManifest from here: no import circle) */
export interface ManifestSource { app_name: string; app_type: string; entrances: string[] }

export function demoManifest(app: ManifestSource, user: string, appName: string): DemoManifest {
  const title = titleCase(app.app_name);
  const icon = `https://cdn.olares.example/icons/${app.app_name}.png`;
  const entrance = (name: string, i: number): ManifestEntrance => {
    const host = `${hostId(`${user}/${appName}/${name}`)}`;
    const admin = name.endsWith('-admin');
    return {
      name, host, port: admin ? 8080 : 80, title: admin ? `${title} admin` : title, icon,
      authLevel: admin || i > 0 ? 'private' : (hostId(appName).charCodeAt(0) % 2 === 0 ? 'public' : 'private'),
      url: `${host}.${user}.olares.example`, openMethod: 'window', invisible: admin,
    };
  };
  // most manifests carry a locale map; every fourth app only a plain title
  const plain = hostId(app.app_name).endsWith('0') || hostId(app.app_name).endsWith('4');
  return {
    metadata: { icon, title: plain ? title : { 'en-US': title, 'zh-CN': `${title}（中文）` } },
    entrances: app.entrances.map((name, i) => entrance(name === app.app_name ? appName : name, i)),
    shared_entrances: app.app_type === 'middleware'
      ? [{ ...entrance(`${appName}-svc`, 1), port: 5432, invisible: true, title: `${title} service` }]
      : [],
  };
}
