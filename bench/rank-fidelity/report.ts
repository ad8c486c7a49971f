// Runs in: the rank-fidelity benchmark's process. The benchmark's result: one row per genome (its cheap
// scores, long validation error, wall times and size) and the rank correlations, as JSON and as a markdown
// table, both named after the two protocols, so several cheap protocols can share one folder of long
// trainings.
import { join } from 'node:path';
import { formatSeconds } from '../../core/cli/progress.ts';
import { writeFileAtomic } from '../../core/io/files.ts';
import type { NamedGenome } from './genome-set.ts';
import {
  cheapScore,
  correlate,
  settled,
  valError,
  SCORES,
  type Correlation,
  type ScoreName,
  type ScoreSettings,
} from './scores.ts';
import { protocolId, type CommonSettings, type Measurement, type Protocol } from './train-cli.ts';

export interface Measured {
  entry: NamedGenome;
  params: number;
  cheap: Measurement | null;
  long: Measurement | null;
}

/** The long protocol repeated with another weight seed on the same split. */
export interface Repeat {
  weightSeed: number;
  measured: Map<string, Measurement>;
}

/** One genome's long validation error at the common seed and at each repeat's. */
interface SeedSpread {
  name: string;
  errors: Record<string, number | null>;
  /** Largest minus smallest of the errors measured. */
  spread: number | null;
}

interface ProtocolSummary {
  status: Measurement['status'];
  reason: string | null;
  wallSeconds: number;
  epochsRun: number;
  bestEpoch: number | null;
  stoppedBy: string | null;
}

interface Row {
  name: string;
  source: NamedGenome['source'];
  learningRate: number;
  params: number;
  aboveBound: boolean;
  cheap: (ProtocolSummary & { scores: Record<ScoreName, number> }) | null;
  long: (ProtocolSummary & { valError: number | null; settled: boolean }) | null;
}

export interface Report {
  common: CommonSettings;
  cheap: Protocol;
  long: Protocol;
  scoreSettings: ScoreSettings;
  primaryScore: ScoreName;
  maxParams: number;
  /** Per score, over the genomes with both measurements, and over those of them within the bound. */
  correlations: {
    all: Record<ScoreName, Correlation>;
    withinBound: Record<ScoreName, Correlation>;
  };
  rows: Row[];
  /**
   * The long protocol's own noise: per repeated genome its long validation error at every weight seed, and
   * per repeat the rank agreement of its errors with the common seed's (what a perfect cheap score reaches).
   */
  seeds: {
    weightSeeds: number[];
    spreads: SeedSpread[];
    longVsLong: { weightSeed: number; correlation: Correlation }[];
  };
}

function summary(m: Measurement): ProtocolSummary {
  const { status, reason, wallSeconds, epochsRun, bestEpoch, stoppedBy } = m;
  return { status, reason, wallSeconds, epochsRun, bestEpoch, stoppedBy };
}

function correlations(rows: Row[], filter: (r: Row) => boolean): Record<ScoreName, Correlation> {
  const ranked = rows.filter((r) => filter(r) && r.cheap !== null && r.long?.valError != null);
  const error = ranked.map((r) => r.long?.valError as number);
  return Object.fromEntries(
    SCORES.map((s) => [
      s,
      correlate(
        ranked.map((r) => r.cheap?.scores[s] as number),
        error,
      ),
    ]),
  ) as Record<ScoreName, Correlation>;
}

function seedReport(rows: Row[], repeats: Repeat[], commonSeed: number): Report['seeds'] {
  const base = new Map(rows.map((r) => [r.name, r.long?.valError ?? null]));
  const repeated = rows.filter((r) => repeats.some((rep) => rep.measured.has(r.name)));
  const spreads = repeated.map((r) => {
    const errors: Record<string, number | null> = { [commonSeed]: base.get(r.name) ?? null };
    for (const rep of repeats) {
      const m = rep.measured.get(r.name);
      errors[rep.weightSeed] = m ? valError(m) : null;
    }
    const known = Object.values(errors).filter((e): e is number => e !== null);
    return {
      name: r.name,
      errors,
      spread: known.length > 1 ? Math.max(...known) - Math.min(...known) : null,
    };
  });
  const longVsLong = repeats.map((rep) => {
    const pairs = [...rep.measured].flatMap(([name, m]) => {
      const a = base.get(name);
      const b = valError(m);
      return a != null && b !== null ? [[a, b] as const] : [];
    });
    return {
      weightSeed: rep.weightSeed,
      correlation: correlate(
        pairs.map((p) => p[0]),
        pairs.map((p) => p[1]),
      ),
    };
  });
  return { weightSeeds: [commonSeed, ...repeats.map((r) => r.weightSeed)], spreads, longVsLong };
}

export function buildReport(
  measured: Measured[],
  repeats: Repeat[],
  settings: Omit<Report, 'correlations' | 'rows' | 'seeds'>,
): Report {
  const rows: Row[] = measured.map(({ entry, params, cheap, long }) => ({
    name: entry.name,
    source: entry.source,
    learningRate: entry.genome.learningRate,
    params,
    aboveBound: params > settings.maxParams,
    cheap: cheap && {
      ...summary(cheap),
      scores: Object.fromEntries(
        SCORES.map((s) => [s, cheapScore(s, cheap, settings.scoreSettings)]),
      ) as Record<ScoreName, number>,
    },
    long: long && { ...summary(long), valError: valError(long), settled: settled(long) },
  }));
  const primary = (r: Row): number => r.cheap?.scores[settings.primaryScore] ?? Infinity;
  rows.sort((a, b) => primary(a) - primary(b));
  return {
    ...settings,
    correlations: {
      all: correlations(rows, () => true),
      withinBound: correlations(rows, (r) => !r.aboveBound),
    },
    rows,
    seeds: seedReport(rows, repeats, settings.common.seed),
  };
}

const fixed = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined ? '-' : x.toFixed(digits);

function protocolLine(p: Protocol): string {
  const limit = p.minutes > 0 ? `, stopped between epochs past ${p.minutes} min` : '';
  const hard = p.hardLimitSeconds === null ? '' : `, killed past ${Math.round(p.hardLimitSeconds)} s`;
  return `${p.epochs} epoch${p.epochs === 1 ? '' : 's'} of ${p.steps} steps${limit}${hard}`;
}

export function reportMarkdown(r: Report): string {
  const stamp = (m: Row['cheap'] | Row['long']): string =>
    m === null
      ? '-'
      : m.status === 'completed'
        ? formatSeconds(m.wallSeconds)
        : `failed (${formatSeconds(m.wallSeconds)})`;
  const lines = [
    `Cheap protocol (${protocolId(r.cheap)}): ${protocolLine(r.cheap)}; f1 with alpha ${r.scoreSettings.alpha}, beta ${r.scoreSettings.beta}, C ${r.scoreSettings.epochs} (f1 counts only the epochs run after the best one when the time limit stopped the training; f1 at full C also the epochs it took away).`,
    `Long protocol (${protocolId(r.long)}): ${protocolLine(r.long)}.`,
    `Data: ${r.common.dataset}, validation fraction ${r.common.valFraction}, test fraction ${r.common.testFraction}, seed ${r.common.seed}.`,
    `Rows sorted by the cheap ${r.primaryScore}; "above bound": more than the demo's ${r.maxParams.toLocaleString('en-US')} parameters.`,
    '',
    '| genome | learning rate | parameters | cheap epochs (stop) | cheap f1 | cheap f1 at full C | cheap loss-sum | cheap val error | cheap wall | long val error | long epochs (best) | settled | long wall |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...r.rows
      .map((row) =>
        [
          `${row.name}${row.aboveBound ? ' (above bound)' : ''}`,
          String(row.learningRate),
          row.params.toLocaleString('en-US'),
          row.cheap ? `${row.cheap.epochsRun} (${row.cheap.stoppedBy ?? row.cheap.status})` : '-',
          fixed(row.cheap?.scores.f1),
          fixed(row.cheap?.scores['f1-full-budget']),
          fixed(row.cheap?.scores['loss-sum']),
          fixed(row.cheap?.scores['val-dice']),
          stamp(row.cheap),
          fixed(row.long?.valError),
          row.long
            ? `${row.long.epochsRun} (${row.long.bestEpoch === null ? '-' : row.long.bestEpoch + 1})`
            : '-',
          row.long ? (row.long.settled ? 'yes' : 'no') : '-',
          stamp(row.long),
        ].join(' | '),
      )
      .map((cells) => `| ${cells} |`),
    '',
    '| cheap score | genomes | Kendall tau | Spearman | within bound: genomes | Kendall tau | Spearman |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...SCORES.map((s) => {
      const a = r.correlations.all[s];
      const b = r.correlations.withinBound[s];
      return `| ${s} | ${a.pairs} | ${fixed(a.kendall)} | ${fixed(a.spearman)} | ${b.pairs} | ${fixed(b.kendall)} | ${fixed(b.spearman)} |`;
    }),
  ];
  if (r.seeds.spreads.length > 0) {
    const seeds = r.seeds.weightSeeds;
    lines.push(
      '',
      `Long validation error over weight seeds (same split, seed ${r.common.seed} above): the long protocol's own noise.`,
      '',
      `| genome | ${seeds.map((s) => `seed ${s}`).join(' | ')} | spread |`,
      `| --- | ${seeds.map(() => '---:').join(' | ')} | ---: |`,
      ...r.seeds.spreads.map(
        (g) => `| ${g.name} | ${seeds.map((s) => fixed(g.errors[s])).join(' | ')} | ${fixed(g.spread)} |`,
      ),
      '',
      '| long vs long | genomes | Kendall tau | Spearman |',
      '| --- | ---: | ---: | ---: |',
      ...r.seeds.longVsLong.map(
        ({ weightSeed, correlation: c }) =>
          `| seed ${r.common.seed} vs seed ${weightSeed} | ${c.pairs} | ${fixed(c.kendall)} | ${fixed(c.spearman)} |`,
      ),
    );
  }
  const failures = r.rows.flatMap((row) =>
    (['cheap', 'long'] as const).flatMap((k) => {
      const m = row[k];
      return m && m.status !== 'completed'
        ? [`- ${row.name}, ${k}: ${m.reason ?? 'no reason recorded'}`]
        : [];
    }),
  );
  if (failures.length > 0)
    lines.push('', 'Failed trainings (a failed cheap training scores worst):', ...failures);
  return lines.join('\n') + '\n';
}

/** Writes rank-fidelity-<cheap>-vs-<long>.json and .md into the output folder. */
export async function writeReport(out: string, r: Report): Promise<{ markdown: string; base: string }> {
  const base = join(out, `rank-fidelity-${protocolId(r.cheap)}-vs-${protocolId(r.long)}`);
  const markdown = reportMarkdown(r);
  await writeFileAtomic(`${base}.json`, JSON.stringify(r, null, 2) + '\n');
  await writeFileAtomic(`${base}.md`, markdown);
  return { markdown, base };
}
