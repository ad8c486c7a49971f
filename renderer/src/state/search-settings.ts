// Runs in: the renderer. The search wizard's settings: the presets and each setting's bounds (both from
// core/api, the values the engine's presets are built from), each setting's explanation, the checks that
// explain an invalid combination before the search starts, and the request the engine is sent. Plain logic
// (no runes), so it is tested in Node. The engine checks everything again (core/search/config.ts); these
// checks are there to explain, early and in place.
import {
  DEEPEST_CELLS,
  nearestFit,
  patchMultiple,
  SEARCH_PRESETS,
  SEARCH_SETTING_BOUNDS,
  unfitSides,
  type SearchPresetName,
  type SettingBounds,
} from '../../../core/api/search-presets.ts';
import type { MethodInput } from '../../../core/api/methods.ts';
import checked from './estimate-accuracy.json';

export type PresetName = SearchPresetName | 'custom';

export interface SearchSettings {
  population: number;
  generations: number;
  epochs: number;
  stepsPerEpoch: number;
  /** Empty: the dataset's planned patch. */
  patch: string;
  /** Minutes per candidate before its training stops cleanly; 0: no limit. */
  maxMinutes: number;
  workers: number;
  surrogate: boolean;
  alpha: number;
  beta: number;
  seed: number;
}

export type SettingKey = keyof SearchSettings;

/** Every side a multiple of this fits every network the search may draw, the deepest included. */
const PATCH_MULTIPLE = patchMultiple(DEEPEST_CELLS);

function wizardPreset(name: SearchPresetName): SearchSettings {
  const p = SEARCH_PRESETS[name];
  return {
    population: p.population,
    generations: p.generations,
    epochs: p.epochs,
    stepsPerEpoch: p.stepsPerEpoch,
    patch: '',
    maxMinutes: p.maxMinutes,
    workers: 1,
    surrogate: p.surrogate,
    alpha: p.alpha,
    beta: p.beta,
    seed: p.seed,
  };
}

export const PRESETS: Record<SearchPresetName, SearchSettings> = {
  quick: wizardPreset('quick'),
  paper: wizardPreset('paper'),
};

function presetText(name: SearchPresetName): string {
  const p = SEARCH_PRESETS[name];
  return `${p.population} networks per generation, ${p.generations} generations, ${p.epochs} epochs each`;
}

export const PRESET_TEXT: Record<PresetName, { title: string; text: string }> = {
  quick: {
    title: 'Quick',
    text: `A short search to see the method work on your data: ${presetText('quick')}. Hours on a laptop CPU, minutes on a GPU.`,
  },
  paper: {
    title: 'Paper',
    text: `The EMONAS-Net paper's settings: ${presetText('paper')}. Days on a GPU; meant for a workstation or a cluster.`,
  },
  custom: {
    title: 'Custom',
    text: 'Start from the quick settings and choose every value yourself.',
  },
};

/** How each candidate (and the final model) is trained, as search.start takes it. */
export type TrainingProtocol = NonNullable<MethodInput<'search.start'>['protocol']>;

export const PROTOCOL_TEXT: Record<TrainingProtocol, { title: string; text: string }> = {
  emonas: {
    title: "This project's (default)",
    text: 'Whole-volume validation with per-case Dice, mild augmentation, foreground oversampling, early stopping; post-processing decided on the validation cases.',
  },
  reference: {
    title: "The paper authors' code",
    text: 'Random slabs of 16 slices, heavy augmentation, validation on slabs, 6000-epoch final training, sliding-window prediction and always the largest component.',
  },
};

const range = ([lo, hi]: number[]) => (lo === hi ? `${lo}` : `${lo}–${hi}`);

/**
 * How far the estimate was from finished searches, from the data file bench/estimate-check writes (the
 * table with its runs is in docs/benchmarks.md).
 */
export const ESTIMATE_ACCURACY = `Against ${checked.runs.length} finished searches on the machine the benchmark ran on (${checked.measuredAt}; npm run bench:estimate-check, docs/benchmarks.md), estimates came to ${range(checked.time)}x their real time and ${range(checked.disk)}x their disk.`;

export interface SettingSpec extends SettingBounds {
  label: string;
  help: string;
}

export const SETTING_SPECS: Record<Exclude<SettingKey, 'patch' | 'surrogate'>, SettingSpec> = {
  population: {
    label: 'Population',
    ...SEARCH_SETTING_BOUNDS.population,
    help: 'Networks per generation, each solving its own trade-off between error and size. More spreads the front more evenly.',
  },
  generations: {
    label: 'Generations',
    ...SEARCH_SETTING_BOUNDS.generations,
    help: 'Rounds of the search: the first draws networks at random, the next ones learn which choices work.',
  },
  epochs: {
    label: 'Epochs per candidate',
    ...SEARCH_SETTING_BOUNDS.epochs,
    help: "Each candidate's training budget; the error measured after it ranks the networks. Early stopping may end a candidate sooner.",
  },
  stepsPerEpoch: {
    label: 'Steps per epoch',
    ...SEARCH_SETTING_BOUNDS.stepsPerEpoch,
    help: 'Training batches per epoch; the validation cases are measured after each epoch.',
  },
  maxMinutes: {
    label: 'Time limit per candidate (minutes)',
    ...SEARCH_SETTING_BOUNDS.maxMinutes,
    help: 'A candidate still training after this long stops cleanly and keeps its best epoch; 0 means no limit.',
  },
  workers: {
    label: 'Workers',
    ...SEARCH_SETTING_BOUNDS.workers,
    help: "Candidates trained at the same time, one process each (one per GPU, or per few CPU cores). With more than one, SaMEA breeds a generation's children from the population at its start, applies their replacements in child order and refits its surrogate once per generation, not after every child.",
  },
  alpha: {
    label: 'Alpha (weight of the training loss)',
    ...SEARCH_SETTING_BOUNDS.alpha,
    help: 'f1 = validation loss + alpha x training loss + beta x early convergence. Alpha favours networks that fit their training data.',
  },
  beta: {
    label: 'Beta (weight of early convergence)',
    ...SEARCH_SETTING_BOUNDS.beta,
    help: 'Beta x (epochs - best epoch) / epochs penalises networks whose best epoch comes early (they stopped improving or overfit), favouring those still improving at the end.',
  },
  seed: {
    label: 'Seed',
    ...SEARCH_SETTING_BOUNDS.seed,
    help: 'The same seed, data and settings repeat the same search.',
  },
};

export const PATCH_HELP = `The training patch in voxels (e.g. 32 x 48 x 32); every side a multiple of ${PATCH_MULTIPLE}, as the deepest networks halve it ${(DEEPEST_CELLS - 1) / 2} times. Leave empty for the patch planned from the dataset's case sizes.`;

export const SURROGATE_HELP =
  'A random forest learns from the networks trained so far and skips children it predicts to be poor, saving training time after the learning generations.';

/** The patch as three sides, null when empty (the planned patch), or a sentence saying what is wrong. */
export function parsePatch(text: string): [number, number, number] | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const sides = trimmed.split(/\s*[x×,\s]\s*/i).map(Number);
  if (sides.length !== 3 || sides.some((s) => !Number.isInteger(s) || s <= 0)) {
    return 'Give the patch as three whole numbers of voxels, e.g. 32 x 48 x 32.';
  }
  const bad = unfitSides(sides, PATCH_MULTIPLE);
  if (bad.length > 0) {
    const fixed = nearestFit(sides, PATCH_MULTIPLE);
    return `Every side must be a multiple of ${PATCH_MULTIPLE} (${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not); try ${fixed.join(' x ')}.`;
  }
  if (sides.some((s) => s > 256))
    return 'A side over 256 voxels will not fit in memory; choose a smaller patch.';
  return sides as [number, number, number];
}

/** The engine preset the settings start from: custom settings start from quick. */
function enginePreset(preset: PresetName): SearchPresetName {
  return preset === 'paper' ? 'paper' : 'quick';
}

/** The engine's learning generations for the preset the settings start from. */
export function learningGenerations(preset: PresetName, generations: number): number {
  const base = SEARCH_PRESETS[enginePreset(preset)].learningGenerations;
  return Math.max(0, Math.min(base, generations - 1));
}

/**
 * What is wrong, per setting, as sentences: values out of bounds, and combinations that cannot work.
 * Empty when the search can start.
 */
export function settingProblems(
  s: SearchSettings,
  preset: PresetName,
  usableCases: number | null,
): Partial<Record<SettingKey | 'dataset', string>> {
  const problems: Partial<Record<SettingKey | 'dataset', string>> = {};
  for (const [key, spec] of Object.entries(SETTING_SPECS) as [keyof typeof SETTING_SPECS, SettingSpec][]) {
    const value = s[key];
    const whole = spec.step === 1;
    if (!Number.isFinite(value) || (whole && !Number.isInteger(value))) {
      problems[key] = `${spec.label} must be a ${whole ? 'whole ' : ''}number.`;
    } else if (value < spec.min || value > spec.max) {
      problems[key] = `${spec.label} must lie between ${spec.min} and ${spec.max}.`;
    }
  }
  const patch = parsePatch(s.patch);
  if (typeof patch === 'string') problems.patch = patch;
  if (!problems.workers && !problems.population && s.workers > s.population) {
    problems.workers = `Only ${s.population} networks train per generation, so more than ${s.population} workers would sit idle; lower the workers or raise the population.`;
  }
  const learning = SEARCH_PRESETS[enginePreset(preset)].learningGenerations;
  // Generation 0 draws at random and generations 1..learning learn, so the first one screened is learning + 1.
  if (!problems.generations && s.surrogate && s.generations <= learning + 1) {
    problems.surrogate = `The surrogate only screens networks after the ${learning} learning generations, so with ${s.generations} generations it would never be used: raise the generations to at least ${learning + 2}, or turn the surrogate off.`;
  }
  if (usableCases !== null && usableCases < 3) {
    problems.dataset = `This dataset has ${usableCases} usable case${usableCases === 1 ? '' : 's'}; a search needs at least 3 (training, validation and test).`;
  }
  return problems;
}

/** What search.start and search.estimate are sent for these settings. */
export function searchRequest(
  s: SearchSettings,
  preset: PresetName,
): { config: Record<string, unknown>; problem: Record<string, unknown>; workers: number } {
  const patch = parsePatch(s.patch);
  return {
    config: {
      algorithm: 'samea',
      preset: enginePreset(preset),
      population: s.population,
      neighbourhood: Math.min(SEARCH_PRESETS[enginePreset(preset)].neighbourhood, s.population),
      generations: s.generations,
      learningGenerations: learningGenerations(preset, s.generations),
      seed: s.seed,
      objective: { alpha: s.alpha, beta: s.beta, epochs: s.epochs },
      surrogate: { enabled: s.surrogate },
    },
    problem: {
      epochs: s.epochs,
      stepsPerEpoch: s.stepsPerEpoch,
      maxMinutes: s.maxMinutes,
      ...(Array.isArray(patch) && { patch }),
    },
    workers: s.workers,
  };
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = seconds / 60;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}

export function bytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(0)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}
