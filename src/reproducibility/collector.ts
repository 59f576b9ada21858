// Collects a comparison's differences into causes, ordered for a person: every cause counted with
// a few examples, rare causes before bulk ones (one fix removes 6,000 .pyc headers; three .so
// files are three problems), consequences (a RECORD hashing changed files) last. Each cause keeps
// its own share of listed entries, so a bulk cause can never push a rare one out of the report.
import { causeOf, fixLabel, KIND_RANK, type CauseAndFix } from './causes.js';
import type { CauseGroup, Difference, DifferenceCounts, DifferenceKind, FixLine } from './types.js';

/** Entries listed per cause by default: 1000 in all, shared out, at least this many per cause. */
export const DEFAULT_LIST_BUDGET = 1000;
export const MIN_PER_CAUSE = 25;
const EXAMPLES = 5;
/** Paths remembered as "changed" for resolving manifests (beyond it, a manifest stays a cause). */
const CHANGED_PATHS_CAP = 1_000_000;
const PENDING_CAP = 10_000;

/** Differences whose content changed (a manifest listing such a file differs because of it). */
const CHANGES_CONTENT = new Set<DifferenceKind>([
  'only-in-a',
  'only-in-b',
  'type',
  'link-target',
  'size',
  'content',
  'pyc-timestamp',
  'pyc-content',
  'elf-build-id',
  'elf-build-time',
  'elf-sections',
  'zip-timestamps',
  'zip-order',
  'zip-compression',
  'zip-content',
  'gzip-header',
  'manifest-consequence',
]);

type NewDifference = Omit<Difference, 'cause' | 'fix'>;

interface Group {
  kind: DifferenceKind;
  count: number;
  examples: string[];
  list: Difference[];
}

export interface CollectorOptions {
  /** Entries kept per cause; undefined: the shared default budget. */
  perCause?: number;
  /** Causes known better than causeOf's, by kind. */
  causes?: Partial<Record<DifferenceKind, CauseAndFix>>;
}

export class Collector {
  readonly counts: DifferenceCounts = { total: 0, byWhere: {}, byKind: {}, filesCompared: 0, filesDiffering: 0, filesOnlyInA: 0, filesOnlyInB: 0, notListed: 0 };
  private readonly groups = new Map<DifferenceKind, Group>();
  private readonly changed = new Set<string>();
  private readonly pending: Array<{ d: NewDifference; listed: string[] }> = [];
  private readonly keep: number;

  constructor(private readonly options: CollectorOptions = {}) {
    this.keep = options.perCause ?? DEFAULT_LIST_BUDGET;
  }

  /**
   * `listed`: for a manifest that differs, the image paths whose recorded hashes differ; it is
   * decided at the end whether those files differ too (then it is a consequence).
   */
  add(d: NewDifference, listed?: string[]): void {
    if (listed && this.pending.length < PENDING_CAP) {
      this.pending.push({ d, listed });
      return;
    }
    if (d.where === 'file' && d.path !== undefined && CHANGES_CONTENT.has(d.kind) && this.changed.size < CHANGED_PATHS_CAP) this.changed.add(normalPath(d.path));
    this.record(d);
  }

  private record(d: NewDifference): void {
    const subject = d.path ?? d.field;
    const { cause, fix } = this.options.causes?.[d.kind] ?? causeOf(d.kind, subject);
    this.counts.total++;
    this.counts.byWhere[d.where] = (this.counts.byWhere[d.where] ?? 0) + 1;
    this.counts.byKind[d.kind] = (this.counts.byKind[d.kind] ?? 0) + 1;
    let group = this.groups.get(d.kind);
    if (!group) {
      group = { kind: d.kind, count: 0, examples: [], list: [] };
      this.groups.set(d.kind, group);
    }
    group.count++;
    if (group.examples.length < EXAMPLES) group.examples.push(subject);
    if (group.list.length < this.keep) group.list.push({ ...d, cause, fix });
  }

  /** Resolves the manifests, shares out the listed entries and orders everything. */
  finish(): { differences: Difference[]; causes: CauseGroup[]; fixFirst: { most: FixLine[]; rarest: FixLine[] } } {
    for (const { d, listed } of this.pending.splice(0)) {
      const unchanged = listed.filter((p) => !this.changed.has(normalPath(p)));
      if (listed.length > 0 && unchanged.length === 0) {
        this.record({ ...d, kind: 'manifest-consequence', detail: `it differs only in the hashes of ${listed.length} listed file${listed.length === 1 ? '' : 's'} that differ: ${sample(listed)}` });
      } else {
        const why = listed.length === 0 ? 'its lines are the same, in another order or format' : `it records other hashes for ${unchanged.length} file${unchanged.length === 1 ? '' : 's'} that are equal in the image: ${sample(unchanged)}`;
        this.record({ ...d, detail: `${d.detail ? `${d.detail}; ` : ''}${why}` });
      }
    }
    const groups = [...this.groups.values()].sort(order);
    const share = this.options.perCause === undefined ? shareOut(groups.map((g) => g.list.length), DEFAULT_LIST_BUDGET) : this.options.perCause;
    const differences: Difference[] = [];
    const causes: CauseGroup[] = groups.map((g) => {
      const kept = g.list.slice(0, share);
      differences.push(...kept);
      const { cause, fix } = this.options.causes?.[g.kind] ?? causeOf(g.kind, g.count === 1 ? g.examples[0] : '');
      const group: CauseGroup = { kind: g.kind, count: g.count, cause, fix, fixLabel: fixLabel(g.kind), example: g.examples[0], examples: g.examples, listed: kept.length };
      if (g.kind === 'manifest-consequence') group.consequence = true;
      return group;
    });
    this.counts.notListed = this.counts.total - differences.length;
    return { differences, causes, fixFirst: fixFirst(causes) };
  }
}

function normalPath(path: string): string {
  return path.replace(/^(\.\/|\/)+/, '');
}

function sample(paths: string[]): string {
  const shown = paths.slice(0, 5).map((p) => `\`${p}\``).join(', ');
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/** Rare before bulk; same count: by kind (a file's own content first); consequences last. */
function order(x: Group, y: Group): number {
  const cx = x.kind === 'manifest-consequence' ? 1 : 0;
  const cy = y.kind === 'manifest-consequence' ? 1 : 0;
  return cx - cy || x.count - y.count || KIND_RANK.indexOf(x.kind) - KIND_RANK.indexOf(y.kind);
}

/** The largest per-cause share s ≥ MIN_PER_CAUSE with Σ min(kept_i, s) ≤ budget. */
export function shareOut(kept: number[], budget: number): number {
  const sorted = [...kept].sort((a, b) => a - b);
  let left = budget;
  for (let i = 0; i < sorted.length; i++) {
    const even = Math.floor(left / (sorted.length - i));
    if (sorted[i]! > even) return Math.max(MIN_PER_CAUSE, even);
    left -= sorted[i]!;
  }
  return Number.POSITIVE_INFINITY;
}

/** The 3 fixes that remove the most differences, and up to 3 more that remove the rarest causes. */
function fixFirst(causes: CauseGroup[]): { most: FixLine[]; rarest: FixLine[] } {
  const byLabel = new Map<string, FixLine>();
  for (const c of causes) {
    if (c.consequence) continue;
    const line = byLabel.get(c.fixLabel) ?? { fixLabel: c.fixLabel, fix: c.fix, count: 0, kinds: [], examples: [] };
    line.count += c.count;
    line.kinds.push(c.kind);
    for (const e of c.examples) if (line.examples.length < 3) line.examples.push(e);
    byLabel.set(c.fixLabel, line);
  }
  const lines = [...byLabel.values()];
  const most = [...lines].sort((a, b) => b.count - a.count).slice(0, 3);
  // `causes` is rarest first already; the label of each rare cause, once, unless already above.
  const rarest: FixLine[] = [];
  for (const c of causes) {
    const line = byLabel.get(c.fixLabel);
    if (!line || most.includes(line) || rarest.includes(line)) continue;
    rarest.push(line);
    if (rarest.length === 3) break;
  }
  return { most, rarest };
}
