// Runs in: vitest (Node). One copy of the search presets: core/search's configurations and the renderer's
// wizard both take them from core/api, so a wizard left on a preset asks the engine for exactly the engine's
// preset, and every bound the wizard offers is a value the engine accepts.
import { describe, expect, it } from 'vitest';
import { methods } from '../../../core/api/methods.ts';
import {
  SEARCH_PRESETS,
  SEARCH_SETTING_BOUNDS,
  type SearchPresetName,
} from '../../../core/api/search-presets.ts';
import { checkPatchShape } from '../../../core/nn/patch-shape.ts';
import { presetConfig, resolveSearchConfig } from '../../../core/search/config.ts';
import { SEARCH_TRAINING_DEFAULTS } from '../../../core/train/setup/defaults.ts';
import {
  PRESETS,
  parsePatch,
  searchRequest,
  type SearchSettings,
} from '../../../renderer/src/state/search-settings.ts';

const NAMES = Object.keys(SEARCH_PRESETS) as SearchPresetName[];

describe('the search presets', () => {
  it('are the values of the engine configurations and of the wizard', () => {
    expect(NAMES).toEqual(['paper', 'quick']);
    for (const name of NAMES) {
      const p = SEARCH_PRESETS[name];
      const config = presetConfig('samea', name);
      if (config.algorithm !== 'samea') throw new Error(`preset ${name} is not SaMEA`);
      expect([
        config.population,
        config.neighbourhood,
        config.generations,
        config.learningGenerations,
        config.seed,
        config.surrogate.enabled,
        config.objective,
      ]).toEqual([
        p.population,
        p.neighbourhood,
        p.generations,
        p.learningGenerations,
        p.seed,
        p.surrogate,
        { alpha: p.alpha, beta: p.beta, epochs: p.epochs },
      ]);
      const { patch, workers, ...wizard } = PRESETS[name];
      expect([patch, workers]).toEqual(['', 1]);
      expect(wizard).toEqual({
        population: p.population,
        generations: p.generations,
        epochs: p.epochs,
        stepsPerEpoch: p.stepsPerEpoch,
        maxMinutes: p.maxMinutes,
        surrogate: p.surrogate,
        alpha: p.alpha,
        beta: p.beta,
        seed: p.seed,
      });
      expect([SEARCH_TRAINING_DEFAULTS.stepsPerEpoch, SEARCH_TRAINING_DEFAULTS.maxMinutes]).toEqual([
        p.stepsPerEpoch,
        p.maxMinutes,
      ]);
    }
  });

  it("resolve, as the wizard sends an untouched preset, to exactly the engine's preset", () => {
    for (const name of NAMES) {
      const { config } = searchRequest(PRESETS[name], name);
      expect(resolveSearchConfig(config)).toEqual(presetConfig('samea', name));
    }
  });

  it('lie within the bounds the wizard offers', () => {
    for (const name of NAMES) {
      const settings = PRESETS[name];
      const keys = Object.keys(SEARCH_SETTING_BOUNDS) as (keyof typeof SEARCH_SETTING_BOUNDS)[];
      expect(keys.length).toBeGreaterThan(5);
      for (const key of keys) {
        const { min, max } = SEARCH_SETTING_BOUNDS[key];
        expect(settings[key], `${name}.${key}`).toBeGreaterThanOrEqual(min);
        expect(settings[key], `${name}.${key}`).toBeLessThanOrEqual(max);
      }
    }
  });

  it('have bounds whose every end the engine accepts', () => {
    const configKeys = ['population', 'generations', 'epochs', 'alpha', 'beta', 'seed'] as const;
    for (const key of configKeys) {
      for (const end of ['min', 'max'] as const) {
        const settings: SearchSettings = { ...PRESETS.quick, [key]: SEARCH_SETTING_BOUNDS[key][end] };
        const { config, workers } = searchRequest(settings, 'custom');
        expect(() => resolveSearchConfig(config), `${key} at its ${end}`).not.toThrow();
        expect(methods['search.start'].input.parse({ config, workers }, 'input')).toMatchObject({ workers });
      }
    }
    for (const workers of [SEARCH_SETTING_BOUNDS.workers.min, SEARCH_SETTING_BOUNDS.workers.max]) {
      expect(methods['search.start'].input.parse({ workers }, 'input')).toEqual({ workers });
    }
  });

  it('explain the patch by the rule the network builder enforces', () => {
    for (const patch of [
      [32, 48, 32],
      [35, 51, 35],
      [16, 16, 8],
    ]) {
      const wizard = parsePatch(patch.join(' x '));
      let engine: string | null = null;
      try {
        checkPatchShape({ cells: 9 }, patch);
      } catch (error) {
        engine = (error as Error).message;
      }
      expect(Array.isArray(wizard), `${patch.join('x')}: ${String(wizard)} / ${engine}`).toBe(
        engine === null,
      );
    }
    expect(parsePatch('35 x 51 x 35')).toContain('try 32 x 48 x 32');
    expect(() => checkPatchShape({ cells: 9 }, [35, 51, 35])).toThrow('32x48x32');
  });
});
