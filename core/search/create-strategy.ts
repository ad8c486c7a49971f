// Runs in: any process. The one place a configuration becomes a strategy.
import type { SearchConfig } from './config.ts';
import { createNsga2 } from './nsga2.ts';
import type { SearchStrategy } from './protocol.ts';
import { createRandomSearch } from './random-search.ts';
import { createSamea } from './samea.ts';
import type { StrategyContext } from './strategy-kit.ts';

export function createStrategy(config: SearchConfig, context: StrategyContext): SearchStrategy {
  switch (config.algorithm) {
    case 'samea':
      return createSamea(config, context);
    case 'nsga2':
      return createNsga2(config, context);
    case 'random':
      return createRandomSearch(config, context);
  }
}
