// Runs in: any process. The self-contained HTML run report: one file with no script and no external
// resource (plots are inline SVG, pictures are data: URLs, its Content-Security-Policy forbids fetching
// anything), so it opens in any browser without the app, can be mailed or archived with the run, and
// never reaches out to a network with patient data.
import type { TestEvaluation } from '../api/finish.ts';
import type { CandidateReview, ReviewedCase, ScoreName } from '../api/review.ts';
import { budgetStopText, type RunRecord } from '../api/runs.ts';
import { escapeXml as esc, linePlot, paretoPlot, type ScatterPoint } from './plots.ts';

export interface ReportFailure {
  caseId: string;
  meanDice: number;
  /** 0-based k of the slice pictured. */
  slice: number;
  wrongVoxels: number;
  /** A data: URL of the picture. */
  picture: string;
  width: number;
  height: number;
  panels: string[];
}

export interface ReportGeneration {
  generation: number;
  evaluated: number;
  hypervolume: number;
}

export interface RunReportData {
  generatedAt: string;
  run: RunRecord;
  /** The search configuration as run.json records it. */
  configuration: Record<string, unknown>;
  problemSettings: Record<string, unknown>;
  dataset: {
    kind: string;
    root: string;
    labels: Record<number, string>;
    split: { train: number; val: string[]; test: number; seed: number | null };
  } | null;
  candidates: ScatterPoint[];
  generations: ReportGeneration[];
  hypervolumeReference: [number, number] | null;
  chosen: {
    id: string;
    generation: number;
    genome: object;
    params: number;
    f1: number | null;
    valLoss: number | null;
  };
  review: CandidateReview | null;
  failures: ReportFailure[];
  /** The run's models measured on its held-out test cases so far (the final model first); never a choice. */
  testEvaluations: TestEvaluation[];
  software: Record<string, string>;
  /** Sentences about what the report could not include, and why. */
  notes: string[];
}

const SCORES: { key: ScoreName; name: string; unit: string }[] = [
  { key: 'dice', name: 'Dice', unit: '' },
  { key: 'hd95', name: 'HD95', unit: 'mm' },
  { key: 'assd', name: 'ASSD', unit: 'mm' },
  { key: 'nsd', name: 'NSD', unit: '' },
  { key: 'volumeReference', name: 'Volume (truth)', unit: 'ml' },
  { key: 'volumePrediction', name: 'Volume (prediction)', unit: 'ml' },
];

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;color:#1d2330;max-width:1120px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 8px;border-bottom:1px solid #d6dbe4;padding-bottom:4px}
h3{font-size:1rem;margin:18px 0 6px}.muted{color:#5d6677}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #d6dbe4;padding:3px 8px;text-align:left;vertical-align:top}tbody th{white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#eef1f6}
.plots{display:flex;flex-wrap:wrap;gap:24px}figure{margin:0}figcaption{color:#5d6677;font-size:.9rem;max-width:520px}
.note{background:#fff6e0;border-left:4px solid #f0b53c;padding:6px 10px}dl dt{font-weight:600;margin-top:6px}dl dd{margin:2px 0 0 16px}
img.failure{image-rendering:pixelated;border:1px solid #d6dbe4}code{font-size:.92em}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:4px;vertical-align:-1px;border:1px solid #0003}
`;

function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return String(+v.toFixed(digits));
}

function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const th = head.map((h) => `<th scope="col">${h}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => (numeric[i] ? `<td class="n">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function keyValues(rows: [string, string][]): string {
  return `<table><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

/** Nested settings as dotted key paths, so every value is one row. */
function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, `<code>${esc(JSON.stringify(value))}</code>`]];
}

function stats(values: number[]): { mean: number; sd: number; median: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const sorted = [...values].sort((a, b) => a - b);
  const median =
    n % 2 === 1
      ? (sorted[(n - 1) / 2] as number)
      : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
  return { mean, sd, median };
}

/** What the per-structure and per-case tables need: the validation review or a test evaluation. */
type MeasuredCases = Pick<CandidateReview, 'structures' | 'cases'>;

function structureTable(review: MeasuredCases): string {
  const names = Object.keys(review.structures);
  const rows = names.flatMap((name) =>
    SCORES.map((s) => {
      const values = review.cases.map((c) => c.structures[name]?.[s.key] ?? 0);
      const { mean, sd, median } = stats(values);
      return [
        esc(name),
        `${s.name}${s.unit ? ` (${s.unit})` : ''}`,
        num(mean),
        num(sd),
        num(median),
        String(values.length),
      ];
    }),
  );
  return table(['Structure', 'Metric', 'Mean', 'SD', 'Median', 'n'], rows, [
    false,
    false,
    true,
    true,
    true,
    true,
  ]);
}

function caseTable(review: MeasuredCases): string {
  const names = Object.keys(review.structures);
  const head = [
    'Case',
    'Mean Dice',
    ...names.flatMap((n) => ['Dice', 'HD95 (mm)', 'ASSD (mm)', 'NSD'].map((m) => `${esc(n)} ${m}`)),
  ];
  const rows = review.cases.map((c: ReviewedCase) => [
    esc(c.id),
    num(c.meanDice),
    ...names.flatMap((n) => {
      const s = c.structures[n];
      return [num(s?.dice), num(s?.hd95, 2), num(s?.assd, 2), num(s?.nsd)];
    }),
  ]);
  return table(
    head,
    rows,
    head.map((_, i) => i > 0),
  );
}

function labelList(labels: Record<number, string>): string {
  return Object.entries(labels)
    .map(([v, name]) => `${esc(v)} ${esc(name)}`)
    .join(', ');
}

function testSection(evaluations: TestEvaluation[]): string[] {
  const parts = [
    '<h2 id="test">Held-out test cases</h2>',
    '<p>Measured on the test cases the search set aside, after every choice was made: neither the search, the choice of a network nor its final training saw them.</p>',
  ];
  for (const t of evaluations) {
    const id = `test-${t.model.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const title = t.model === 'final' ? 'The final model' : `Candidate ${esc(t.model)}`;
    parts.push(
      `<h3 id="${id}">${title} on ${t.cases.length} test cases</h3>`,
      `<p class="muted">Model folder <code>${esc(t.modelDir)}</code>; ${esc(t.postprocessing.summary)}</p>`,
      structureTable(t),
      '<p>Per case, worst first:</p>',
      caseTable(t),
    );
  }
  return parts;
}

export function runState(run: RunRecord): string {
  if (run.finished) return 'finished';
  if (run.cancelled) return 'not finished: cancelled (kept, not resumable)';
  if (run.stoppedAtBudget) return `not finished: ${budgetStopText(run.stoppedAtBudget.minutes)} (resumable)`;
  return 'not finished (paused or interrupted)';
}

export function renderRunReport(data: RunReportData): string {
  const { run, chosen, review } = data;
  const parts: string[] = [];
  parts.push(
    `<h1>Run report: ${esc(run.id)}</h1>`,
    `<p class="muted">Written by Emonas Studio on ${esc(data.generatedAt)}. This file holds everything it shows; it opens without the app and loads nothing from anywhere.</p>`,
  );
  for (const note of data.notes) parts.push(`<p class="note">${esc(note)}</p>`);
  parts.push(
    '<h2 id="run">Run</h2>',
    keyValues([
      ['Run', esc(run.id)],
      ['Started', esc(run.createdAt)],
      ['Algorithm', esc(run.algorithm)],
      ['Problem', esc(run.problem)],
      ['Candidates evaluated', `${run.evaluated}${run.failed > 0 ? ` (${run.failed} failed)` : ''}`],
      ['State', runState(run)],
    ]),
    '<h2 id="configuration">Configuration</h2>',
    keyValues([...flatten(data.configuration), ...flatten(data.problemSettings, 'problem')]),
    '<h2 id="dataset">Dataset and split</h2>',
  );
  if (data.dataset) {
    const d = data.dataset;
    parts.push(
      keyValues([
        ['Kind', esc(d.kind)],
        ['Folder', `<code>${esc(d.root)}</code>`],
        ['Labels', labelList(d.labels)],
        ['Training cases', String(d.split.train)],
        ['Validation cases', `${d.split.val.length}: ${d.split.val.map(esc).join(', ')}`],
        ['Held-out test cases', String(d.split.test)],
        ['Split seed', d.split.seed === null ? '–' : String(d.split.seed)],
      ]),
    );
  } else {
    parts.push('<p>This run searched a problem without data, so there is no dataset or split.</p>');
  }
  parts.push('<h2 id="search">Search results</h2><div class="plots">');
  if (data.candidates.length > 0) {
    parts.push(
      `<figure id="pareto-plot">${paretoPlot(data.candidates)}<figcaption>Every trained candidate (grey), the Pareto front (blue, joined) and the chosen candidate ${esc(chosen.id)} (red ring). Lower is better on both axes.</figcaption></figure>`,
    );
  }
  if (data.generations.length > 0) {
    const ref = data.hypervolumeReference;
    parts.push(
      `<figure id="hypervolume-plot">${linePlot(
        data.generations.map((g) => ({ x: g.generation, y: g.hypervolume })),
        'generation',
        'hypervolume',
        true,
      )}<figcaption>Hypervolume of the front after each generation, in the normalised objective space${ref ? ` with reference point (${ref.join(', ')})` : ''}; higher is better.</figcaption></figure>`,
    );
  }
  parts.push('</div>');
  const front = data.candidates.filter((c) => c.onFront).sort((a, b) => a.f1 - b.f1);
  parts.push(
    '<h3>Pareto front</h3>',
    table(
      ['Candidate', 'Parameters', 'f1'],
      front.map((c) => [esc(c.id) + (c.chosen ? ' (chosen)' : ''), c.params.toLocaleString('en'), num(c.f1)]),
      [false, true, true],
    ),
    `<h2 id="chosen">Chosen candidate: ${esc(chosen.id)}</h2>`,
    keyValues([
      ['Generation', String(chosen.generation)],
      ['Parameters', chosen.params.toLocaleString('en')],
      ['f1 (search objective)', num(chosen.f1)],
      ['Validation loss', num(chosen.valLoss)],
      ['Genome', `<code>${esc(JSON.stringify(chosen.genome))}</code>`],
    ]),
  );
  if (review) {
    const legend = Object.entries(review.structures)
      .map(([name, value]) => `${esc(name)} (label ${value})`)
      .join(', ');
    parts.push(
      `<p>Measured on the ${review.cases.length} validation cases of its split, each prediction against its ground truth on the ground truth's own grid. Structures: ${legend}. Surface Dice tolerance τ = ${review.tau} mm.</p>`,
      '<h3 id="per-structure">Per structure</h3>',
      structureTable(review),
      '<h3 id="per-case">Per case, worst first</h3>',
      caseTable(review),
    );
    if (data.failures.length > 0) {
      parts.push(
        '<h3 id="failures">Failure cases</h3>',
        '<p>The worst cases, each at the slice where the prediction gets most of the ground truth wrong. Errors: <span class="swatch" style="background:rgb(30,144,255)"></span>missed (false negative), <span class="swatch" style="background:rgb(255,140,0)"></span>extra (false positive), <span class="swatch" style="background:rgb(255,235,59)"></span>wrong structure.</p>',
      );
      for (const f of data.failures) {
        parts.push(
          `<figure class="failure"><img class="failure" src="${f.picture}" width="${f.width}" height="${f.height}" alt="${esc(`${f.caseId}, slice ${f.slice + 1}: ${f.panels.join(', ')}`)}"><figcaption>${esc(f.caseId)}: mean Dice ${num(f.meanDice, 3)}; slice ${f.slice + 1} (k = ${f.slice}), ${f.wrongVoxels} wrong voxels. Left to right: ${f.panels.map(esc).join(' | ')}.</figcaption></figure>`,
        );
      }
    }
    parts.push(
      '<h3 id="definitions">Metric definitions</h3>',
      `<dl>${Object.entries(review.definitions)
        // The evaluation names the HD95 in use under `hd95` as well as under its variant's own name.
        .filter(([, v], n, all) => !all.slice(n + 1).some(([, later]) => later === v))
        .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
        .join('')}</dl>`,
    );
  }
  if (data.testEvaluations.length > 0) parts.push(...testSection(data.testEvaluations));
  parts.push(
    '<h2 id="software">Software versions</h2>',
    keyValues(Object.entries(data.software).map(([k, v]) => [k, esc(v)])),
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Run report ${esc(run.id)} – Emonas Studio</title>`,
    `<style>${STYLE}</style></head><body>`,
    ...parts,
    '</body></html>',
    '',
  ].join('\n');
}
