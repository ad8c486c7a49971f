#!/usr/bin/env node
// Runs in: a plain Node process (the peer of bench/train/cli-startup.ts). bin/emonas.mjs as it behaved
// before the commands loaded their heavy modules lazily: training, prediction (and with it tfjs) imported
// before the command line is even read.
import { register } from 'tsx/esm/api';

register();
await import('../../core/service/train.ts');
await import('../../core/service/predict.ts');
const { main } = await import('../../core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
