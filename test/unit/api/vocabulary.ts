// Runs in: the type checker only (tsc includes test/). core/api runs in the renderer and may not import the
// engine's Node-bound modules, so a few wire types restate an engine type; each pair here must stay equal
// or `tsc` fails.
import type { FinalModelSummary } from '../../../core/api/finish.ts';
import type { FinalizeSummary } from '../../../core/train/setup/final.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const finalModelSummaryMatches: Equal<FinalModelSummary, Omit<FinalizeSummary, 'runDir'>> = true;
