// Runs in: the emonas command's process. `emonas evaluate-test <run folder>`: a run's final model (or a
// candidate) predicted on the test cases its search set aside and scored with the dataset's own report,
// through the same service function as the contract's test.evaluate.
import { basename, resolve } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { parse, printJson, protocolOption, type Command } from './command.ts';
import { ProgressBar } from './progress.ts';

const usage = `Usage: emonas evaluate-test <run folder> [--model final|<candidate id>] [--protocol P] [--json]

Predicts the run's test cases (the split its search set aside and never used for any choice) with the run's
final model (after emonas finalize; the default) or one of its candidates, and scores them against their
ground truth with the dataset's own report (the Decathlon's per-label table, ACDC's clinical indices,
PROMISE12's apex and base). Predictions and scores are cached in the model folder (test-evaluation/),
keyed to its weights, so asking again answers at once.

Options:
  --model <which>   final (default), or a candidate id of the run (see emonas front <run folder>)
  --protocol P      emonas or reference; default: the protocol the model was trained with. reference
                    predicts as the authors' evaluation (method.md section 6.3): slab windows at a
                    stride of one slice with 15 zero slices in front, averaged, every label's largest
                    face-connected component kept; its predictions are cached apart
  --json            print { cases (worst first), mean, report, problems, ... } as JSON`;

export const evaluateTestCommand: Command = {
  name: 'evaluate-test',
  summary: "score a run's final model (or a candidate) on the test cases its search set aside",
  usage,
  async run(argv) {
    const { values, positionals } = parse('evaluate-test', argv, {
      model: { type: 'string' },
      protocol: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [runDir, ...rest] = positionals;
    if (runDir === undefined || rest.length > 0) {
      throw new EmonasError(
        'bad_request',
        'emonas evaluate-test takes one run folder (see emonas evaluate-test --help)',
      );
    }
    const protocol = protocolOption('evaluate-test', values.protocol);
    let bar: ProgressBar | undefined;
    const { evaluateTest } = await import('../service/test-evaluation.ts');
    const folder = resolve(runDir);
    const result = await evaluateTest(
      folder,
      basename(folder),
      values.model ?? 'final',
      {
        onProgress(done, total, caseId) {
          bar ??= new ProgressBar({ label: 'Predicting test cases', total });
          if (done < total) bar.update(done, caseId);
          else bar.finish();
        },
      },
      protocol,
    );
    if (values.json) printJson(result);
    else {
      const names = Object.keys(result.structures);
      const lines = [
        `Test cases of ${folder} with ${result.modelDir} (${result.datasetKind}), worst first:`,
        ['case', ...names.map((n) => `Dice ${n}`)].join('\t'),
        ...result.cases.map((c) =>
          [c.id, ...names.map((n) => (c.structures[n]?.dice ?? NaN).toFixed(3))].join('\t'),
        ),
        ['mean', ...names.map((n) => (result.mean[n]?.dice ?? NaN).toFixed(3))].join('\t'),
        result.postprocessing.summary,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    for (const problem of result.problems) process.stderr.write(`emonas: ${problem.message}\n`);
    return result.problems.length === 0 ? 0 : 1;
  },
};
