// Runs in: the rank-fidelity benchmark's processes. The benchmark's fixed genome set (genomes.json, drawn
// by draw-genomes.ts): its format, and reading it with a message that names the file and the entry at fault.
import { readFile } from 'node:fs/promises';
import { parseGenome } from '../../core/searchspace/genome-json.ts';
import type { Genome } from '../../core/searchspace/genome.ts';

/** One input channel, background and two hippocampus structures under softmax: the demo data's head. */
export const HIPPOCAMPUS_TASK = { inChannels: 1, classes: 3 } as const;

/** Rates at or below this are the half of the learning-rate gene a short training cannot show. */
export const LOW_LEARNING_RATE = 1e-4;

export interface GenomeEntry {
  /** Names the genome's folders and table row; unique in the set. */
  name: string;
  source: 'builtin' | 'drawn';
  genome: Record<string, unknown>;
}

export interface GenomeSet {
  /** How the set was chosen, as a sentence. */
  rule: string;
  seed: number;
  /** The parameter bound the drawn genomes were kept under. */
  maxParams: number;
  genomes: GenomeEntry[];
}

export interface NamedGenome {
  name: string;
  source: GenomeEntry['source'];
  genome: Genome;
}

export async function readGenomeSet(file: string): Promise<NamedGenome[]> {
  let set: GenomeSet;
  try {
    set = JSON.parse(await readFile(file, 'utf8')) as GenomeSet;
  } catch (err) {
    throw new Error(`${file} is not a readable JSON genome set: ${(err as Error).message}`);
  }
  if (!Array.isArray(set?.genomes) || set.genomes.length < 2) {
    throw new Error(`${file} must hold {"genomes": [...]} with at least two genomes to rank.`);
  }
  const names = new Set<string>();
  return set.genomes.map((entry, i) => {
    const name = entry?.name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name) || names.has(name)) {
      throw new Error(
        `${file}: genome ${i + 1} needs a unique "name" of letters, digits, '.', '_' or '-', not ${JSON.stringify(name)}.`,
      );
    }
    names.add(name);
    if (entry.source !== 'builtin' && entry.source !== 'drawn') {
      throw new Error(
        `${file}: genome ${name} has source ${JSON.stringify(entry.source)}; use builtin or drawn.`,
      );
    }
    return { name, source: entry.source, genome: parseGenome(entry.genome, `${file}, genome ${name}`) };
  });
}
