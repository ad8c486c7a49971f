// Runs in: the emonas command's process. `emonas front <run folder> [--json]`: the run's Pareto front
// between segmentation error (f1) and network size (f2), with each network's validation Dice per label.
import { EmonasError } from '../base/errors.ts';
import type { Genome } from '../api/runs.ts';
import { frontDetails, type FrontDetail } from '../service/runs.ts';
import { parse, printJson, type Command } from './command.ts';

const usage = `Usage: emonas front <run folder> [--json]

Prints the Pareto front of a search (finished or not): for each network, its candidate id, f1 (the
segmentation error the search minimises), f2 (ln of the parameter count), the parameters, the validation
Dice per label at its best epoch and its genome; the most accurate first. Each candidate's folder
(<run folder>/candidates/<id>) is a model folder for emonas predict --model.

Options:
  --json   an array of objects: candidate, genome, f1, f2, params, valDice, folder, ...`;

export function genomeText(g: Genome): string {
  return `lr ${g.learningRate} nf ${g.filters} cells ${g.cells} in ${g.inputs.join(',')} ops ${g.ops.join(',')}`;
}

export function formatFront(rows: FrontDetail[]): string {
  if (rows.length === 0) return 'The front is empty: no candidate has completed yet.\n';
  const labels = [...new Set(rows.flatMap((r) => Object.keys(r.valDice ?? {})))];
  const header = ['candidate', 'f1', 'f2', 'params', ...labels.map((l) => `Dice ${l}`), 'genome'];
  const body = rows.map((r) => [
    r.id,
    r.f1.toFixed(4),
    Math.log(r.params).toFixed(3),
    r.params.toLocaleString('en-US'),
    ...labels.map((l) => (r.valDice?.[l] === undefined ? '-' : (r.valDice[l] as number).toFixed(3))),
    genomeText(r.genome),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

export const frontCommand: Command = {
  name: 'front',
  summary: "print a search's Pareto front (error vs size) with each network's Dice",
  usage,
  async run(argv) {
    const { values, positionals } = parse('front', argv, { json: { type: 'boolean' } });
    const [runDir, ...rest] = positionals;
    if (runDir === undefined || rest.length > 0) {
      throw new EmonasError('bad_request', 'emonas front takes one run folder (see emonas front --help)');
    }
    const rows = frontDetails({ runDir });
    if (values.json) {
      printJson(rows.map((r) => ({ candidate: r.id, ...r, f2: Math.log(r.params) })));
    } else process.stdout.write(formatFront(rows));
    return 0;
  },
};
