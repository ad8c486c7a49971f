// Runs in: the engine. The genome a user names for a training: a built-in name, inline JSON, a JSON file, or
// a genome object; anything else is refused with a sentence naming what was given.
import { EmonasError } from '../../base/errors.ts';
import { readJsonFile } from '../../io/files.ts';
import { BUILTIN_GENOMES, builtinGenome } from '../../nn/builtin-genomes.ts';
import { parseGenome } from '../../searchspace/genome-json.ts';
import type { Genome } from '../../searchspace/genome.ts';

export async function resolveGenome(spec: string | Genome): Promise<Genome> {
  if (typeof spec !== 'string') return parseGenome(spec);
  if (Object.hasOwn(BUILTIN_GENOMES, spec)) return builtinGenome(spec);
  const text = spec.trim();
  if (text.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new EmonasError(
        'invalid_genome',
        `The inline genome is not valid JSON: ${(err as Error).message}.`,
      );
    }
    return parseGenome(value);
  }
  const value = await readJsonFile(
    spec,
    (problem) =>
      new EmonasError(
        'invalid_genome',
        problem.kind === 'unreadable'
          ? `"${spec}" is neither a built-in genome (${Object.keys(BUILTIN_GENOMES).join(', ')}), nor inline JSON, nor a readable JSON file.`
          : `${spec} is not valid JSON: ${problem.detail}.`,
        { file: spec },
      ),
  );
  return parseGenome(value, spec);
}
