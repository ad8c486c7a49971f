// Runs in: a plain Node process (npx tsx bench/rank-fidelity/draw-genomes.ts > genomes.json, then prettier).
// The rule that chose the rank-fidelity benchmark's fixed genome set, kept so the set can be checked and
// redrawn: the built-in genomes, then uniform draws from the search space (a seeded stream, no look at any
// result), stratified by learning rate so half of the drawn genomes have a rate of 1e-4 or below (the half
// of the gene's values the issue says a short training cannot show), within the demo's parameter bound (the
// bound the search keeps every candidate under), without duplicates.
import { parseArgs } from 'node:util';
import { RandomStream } from '../../core/base/random.ts';
import { BUILTIN_GENOMES } from '../../core/nn/builtin-genomes.ts';
import { countParams } from '../../core/nn/param-count.ts';
import { decode, genomeKey, encode } from '../../core/searchspace/encoding.ts';
import { genomeToJson } from '../../core/searchspace/genome-json.ts';
import { randomGenome } from '../../core/searchspace/sampling.ts';
import { DEMO_DEFAULTS } from '../../core/service/search-demo.ts';
import { HIPPOCAMPUS_TASK, LOW_LEARNING_RATE, type GenomeSet } from './genome-set.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    drawn: { type: 'string', default: '10' },
  },
});
const seed = Number(values.seed);
const drawn = Number(values.drawn);
if (!Number.isInteger(seed) || seed < 0 || !Number.isInteger(drawn) || drawn < 2 || drawn % 2 !== 0) {
  throw new Error('--seed must be a whole number of 0 or more and --drawn an even number of at least 2.');
}

const maxParams = DEMO_DEFAULTS.maxParams;
const set: GenomeSet = {
  rule:
    `The ${Object.keys(BUILTIN_GENOMES).length} built-in genomes, then ${drawn} uniform draws from the search space ` +
    `(RandomStream.fromSeed(${seed}, "rank-fidelity"), randomGenome), redrawing a genome above the demo's ` +
    `${maxParams.toLocaleString('en-US')}-parameter bound, a duplicate, or one whose learning-rate half ` +
    `(<= ${LOW_LEARNING_RATE} or above) already holds ${drawn / 2}. Written by bench/rank-fidelity/draw-genomes.ts.`,
  seed,
  maxParams,
  genomes: Object.entries(BUILTIN_GENOMES).map(([name, genome]) => ({
    name,
    source: 'builtin' as const,
    genome: genomeToJson(genome),
  })),
};

const rng = RandomStream.fromSeed(seed, 'rank-fidelity');
const seen = new Set(set.genomes.map((g) => genomeKey(encode(g.genome as never))));
let low = 0;
let high = 0;
while (low + high < drawn) {
  const indices = randomGenome(rng);
  const genome = decode(indices);
  const key = genomeKey(indices);
  const isLow = genome.learningRate <= LOW_LEARNING_RATE;
  if (seen.has(key) || (isLow ? low : high) >= drawn / 2) continue;
  if (countParams(genome, HIPPOCAMPUS_TASK) > maxParams) continue;
  seen.add(key);
  if (isLow) low++;
  else high++;
  const n = low + high;
  set.genomes.push({
    name: `drawn-${String(n).padStart(2, '0')}`,
    source: 'drawn',
    genome: genomeToJson(genome),
  });
}
process.stdout.write(JSON.stringify(set, null, 2) + '\n');
