import { digestOf } from '../content-digest.ts';
import type { ChartRepoView } from './chart-repo-view.ts';
import type { SourceBook } from './source-book.ts';
import type { StoreTables } from './store-tables.ts';

/** Writes a part of the snapshot as pieces (concatenated in order, they are its JSON). */
type Pieces = (out: string[]) => void;

/** The store-local stamp a snapshot-shaped answer (/state, /overview) starts with: when it last changed, and its version. */
function snapshotStamp(s: VersionStamp): string {
  return `{"timestamp":${JSON.stringify(s.timestamp)},"version":${s.version},`;
}

/** The stamp a page of apps (…/apps) starts with: its version (what its cursor was read at; QueryAnswer.own_from). */
export function pageStamp(s: VersionStamp): string {
  return `{"version":${s.version},`;
}

/** The version a snapshot is rendered at. */
export interface VersionStamp {
  readonly version: number;
  readonly timestamp: string;
}

/**
 * The `/state` data, by concatenation of what each entity rendered when it changed: whole, or with apps, tasks,
 * the Chart Repo view and the summary narrowed by a filter. Also the content digest of what it says.
 */
export class SnapshotRenderer {
  constructor(
    private readonly stamp: VersionStamp,
    private readonly tables: StoreTables,
    private readonly chartRepo: ChartRepoView,
    private readonly sources: SourceBook,
  ) {}

  /**
   * The whole snapshot as pieces appended to `out`: the entities' rendered members as they are held, in key order, so a
   * body is written into its buffer piece by piece and never exists as one string (at 10,000 apps that string
   * was 18 MB, or twice that with one non-Latin-1 character, beside the buffer it was copied into).
   */
  wholeInto(out: string[]): void {
    const held = this.chartRepo.held;
    // in key order, as a filtered answer's and as Go writes a map: the table holds rows in the order this store
    // last saw each change, which a replica or a restarted store did not see alike
    const { apps, tasks, appOrder } = this.tables;
    this.into(out, (o) => apps.renderInto(o, appOrder.sorted()), (o) => tasks.renderInto(o, [...tasks.rows.keys()].sort()),
      held ? (o) => held.renderInto(o) : undefined, JSON.stringify(this.tables.summary));
  }

  /**
   * The snapshot with apps, tasks, the Chart Repo view and the summary as given (a filtered answer), as pieces
   * appended to `out`: the layout, once, each part writing its own pieces.
   */
  into(out: string[], apps: Pieces, tasks: Pieces, chartRepo: Pieces | undefined, summary: string): void {
    out.push(`${snapshotStamp(this.stamp)}"app_states":`);
    apps(out);
    out.push(',"tasks":');
    tasks(out);
    out.push(`,"components":${this.tables.components.renderObject()},`);
    if (chartRepo) {
      out.push('"chart_repo":');
      chartRepo(out);
      out.push(',');
    }
    out.push(`"summary":${summary},"sources":${this.sources.healthJson()}}`);
  }

  /**
   * The snapshot without its lists that grow with the market (…/overview): no app_states, and chart_repo
   * without its apps and images, whose numbers per state and status are in `chart_repo_counts`. What a
   * dashboard shows beside a page of apps; one walk over the Chart Repo lists per version (the HTTP thread
   * keeps the answer per version).
   */
  overview(): string {
    const view = this.chartRepo.held?.overview();
    const chart = view ? `"chart_repo":${view.frame},` : '';
    const counts = view?.counts ?? { apps: {}, images: {} };
    return `${snapshotStamp(this.stamp)}"tasks":${this.tables.tasks.renderObject()},"components":${this.tables.components.renderObject()},${chart}`
      + `"chart_repo_counts":${JSON.stringify(counts)},"summary":${JSON.stringify(this.tables.summary)},"sources":${this.sources.healthJson()}}`;
  }

  /** about how many bytes the whole rendering has (at most that many) */
  sizeHint(): number {
    return this.tables.chars + (this.chartRepo.held?.chars ?? 0);
  }

  /**
   * Everything the snapshot says but its version and the times this store saw changes at (timestamp, an
   * app's last_update, a component's last_check, Chart Repo items' last_update): ETags are made from it.
   */
  digest(): string {
    const { apps, tasks, summary } = this.tables;
    return this.answerDigest(apps.digest.digest(), tasks.digest.digest(), JSON.stringify(summary));
  }

  /**
   * The digest of an answer holding these apps, these tasks and this summary beside the components, the Chart
   * Repo view (`chartRepo`: the content of the view as the answer shows it, whole unless given narrowed) and the
   * sources' health, as the version's digest names the whole snapshot: a filtered answer keeps its tag while the
   * rest of the market moves on.
   */
  answerDigest(apps: string, tasks: string, summary: string, chartRepo = this.chartRepo.held?.content ?? ''): string {
    // 128 bits: as many as a query variant's (etag.ts)
    return digestOf([
      apps, tasks, this.tables.components.digest.digest(), chartRepo, summary, this.sources.healthJson(),
    ]).slice(0, 22);
  }
}
