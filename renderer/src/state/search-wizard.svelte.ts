// Runs in: the renderer. The search wizard: a library dataset -> a preset -> the settings (checked as they
// are typed) -> an estimate of time and disk measured by the engine -> start. Each step's outcome, errors
// included, lives here; the component only renders it.
import type { ApiClient } from '../../../core/api/client.ts';
import type { DatasetRecord } from '../../../core/api/datasets.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { RunSummary, SearchEstimate } from '../../../core/api/runs.ts';
import {
  PRESETS,
  searchRequest,
  settingProblems,
  type PresetName,
  type SearchSettings,
  type SettingKey,
  type TrainingProtocol,
} from './search-settings.ts';

export const SEARCH_STEPS = ['dataset', 'preset', 'settings', 'estimate'] as const;
export type SearchStep = (typeof SEARCH_STEPS)[number];

export class SearchWizard {
  step = $state<SearchStep>('dataset');
  datasets = $state.raw<DatasetRecord[]>([]);
  loaded = $state(false);
  datasetName = $state<string | null>(null);
  preset = $state<PresetName>('quick');
  settings = $state<SearchSettings>({ ...PRESETS.quick });
  /** Independent of the preset: either protocol runs with any search settings. */
  protocol = $state<TrainingProtocol>('emonas');
  estimate = $state.raw<SearchEstimate | null>(null);
  estimating = $state(false);
  starting = $state(false);
  error = $state.raw<ErrorData | null>(null);
  /** The settings the estimate was measured for, so a change asks for a new one. */
  private estimatedFor = $state('');

  constructor(
    private readonly client: ApiClient,
    /** Called with the new run once the engine has started it. */
    private readonly onStarted: (run: RunSummary) => void,
  ) {}

  get dataset(): DatasetRecord | null {
    return this.datasets.find((d) => d.name === this.datasetName) ?? null;
  }

  get problems(): Partial<Record<SettingKey | 'dataset', string>> {
    return settingProblems(this.settings, this.preset, this.dataset?.usable ?? null);
  }

  get valid(): boolean {
    return Object.keys(this.problems).length === 0;
  }

  get estimateIsCurrent(): boolean {
    return this.estimate !== null && this.estimatedFor === this.key();
  }

  async load(): Promise<void> {
    const result = await this.client.call('dataset.list', {});
    this.loaded = true;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.datasets = result.value;
    if (this.datasetName === null || !this.dataset) this.datasetName = result.value[0]?.name ?? null;
  }

  choosePreset(preset: PresetName): void {
    this.preset = preset;
    this.settings = { ...(preset === 'custom' ? this.settings : PRESETS[preset]) };
  }

  /** A change to a setting makes the preset custom, unless the value is the preset's own. */
  set<K extends SettingKey>(key: K, value: SearchSettings[K]): void {
    this.settings[key] = value;
    if (this.preset !== 'custom' && PRESETS[this.preset][key] !== value) this.preset = 'custom';
  }

  go(step: SearchStep): void {
    this.error = null;
    this.step = step;
    if (step === 'estimate' && !this.estimateIsCurrent) void this.runEstimate();
  }

  next(): void {
    const i = SEARCH_STEPS.indexOf(this.step);
    if (this.step === 'dataset' && (!this.dataset || this.problems.dataset)) return;
    if (this.step === 'settings' && !this.valid) return;
    const following = SEARCH_STEPS[i + 1];
    if (following) this.go(following);
  }

  back(): void {
    const previous = SEARCH_STEPS[SEARCH_STEPS.indexOf(this.step) - 1];
    if (previous) this.go(previous);
  }

  async runEstimate(): Promise<void> {
    const dataset = this.dataset;
    if (!dataset || !this.valid || this.estimating) return;
    const key = this.key();
    this.estimating = true;
    this.error = null;
    this.estimate = null;
    const result = await this.client.call('search.estimate', this.request(dataset));
    this.estimating = false;
    if (result.ok) {
      this.estimate = result.value;
      this.estimatedFor = key;
    } else {
      this.error = result.error;
    }
  }

  async start(): Promise<void> {
    const dataset = this.dataset;
    if (!dataset || !this.valid || this.starting) return;
    this.starting = true;
    this.error = null;
    const result = await this.client.call('search.start', this.request(dataset));
    this.starting = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.onStarted(result.value);
    this.reset();
  }

  reset(): void {
    this.step = 'dataset';
    this.preset = 'quick';
    this.settings = { ...PRESETS.quick };
    this.protocol = 'emonas';
    this.estimate = null;
    this.estimatedFor = '';
    this.error = null;
  }

  /** The search as search.start takes it; the estimate is asked for exactly this search. */
  private request(dataset: DatasetRecord) {
    return { dataset: dataset.name, ...searchRequest(this.settings, this.preset), protocol: this.protocol };
  }

  private key(): string {
    return JSON.stringify([this.datasetName, this.preset, this.settings, this.protocol]);
  }
}
