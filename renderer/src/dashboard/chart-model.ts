// Runs in: the renderer. The arithmetic of the dashboard's charts (domains, scales, ticks) and the series of
// a training's learning curves (a candidate's, a final training's), plain so it is tested in Node;
// Chart.svelte only draws what this computes.
import type { EpochPoint } from '../../../core/api/runs.ts';

export type Tone = 'archive' | 'front' | 'failed' | 'line' | 'line2' | 'line3' | 'predicted';

export interface ChartPoint {
  x: number;
  y: number;
  /** Set for points that can be picked (a candidate). */
  id?: string;
  /** Read out for a pickable point. */
  label?: string;
}

export interface ChartSeries {
  name: string;
  tone: Tone;
  points: ChartPoint[];
  /** Joined by a line (in order of x), or drawn as separate marks. */
  line: boolean;
}

export interface Scale {
  (value: number): number;
  ticks: { value: number; text: string }[];
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
}

function tickText(value: number): string {
  const abs = Math.abs(value);
  // Parameter counts read as 250k or 4M.
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(0);
  return Number(value.toPrecision(4)).toString();
}

/** The range of the values, widened a little, and never empty. */
export function domainOf(values: number[], log = false): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (finite.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (log) {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
  }
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 0.5;
    lo -= pad;
    hi += pad;
  } else {
    const pad = (hi - lo) * 0.06;
    lo -= pad;
    hi += pad;
  }
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}

/** Maps [lo, hi] onto [from, to] (pixels), linearly or in log10, with a few round ticks. */
export function scale(
  domain: [number, number],
  from: number,
  to: number,
  log = false,
  integer = false,
): Scale {
  const t = (v: number) => (log ? Math.log10(Math.max(v, Number.MIN_VALUE)) : v);
  const lo = t(domain[0]);
  const hi = t(domain[1]);
  const map = ((value: number) => from + ((t(value) - lo) / (hi - lo)) * (to - from)) as Scale;
  const ticks: { value: number; text: string }[] = [];
  if (log) {
    for (let p = Math.ceil(lo); p <= Math.floor(hi); p++)
      ticks.push({ value: 10 ** p, text: tickText(10 ** p) });
    if (ticks.length < 2) {
      // A narrow log range: linear ticks read better than one power of ten.
      const step = niceStep(domain[1] - domain[0], 3);
      ticks.length = 0;
      for (let v = Math.ceil(domain[0] / step) * step; v <= domain[1]; v += step)
        ticks.push({ value: v, text: tickText(v) });
    }
  } else {
    // Generations and epochs are counted: no tick between two of them.
    const step = integer ? Math.max(1, niceStep(hi - lo, 4)) : niceStep(hi - lo, 4);
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
      ticks.push({ value: v, text: tickText(Math.abs(v) < step * 1e-9 ? 0 : v) });
  }
  map.ticks = ticks;
  return map;
}

/** Training and validation loss per epoch (1-based on the axis, as a person counts epochs). */
export function lossSeries(curves: readonly EpochPoint[]): ChartSeries[] {
  return [
    {
      name: 'training loss',
      tone: 'line',
      line: true,
      points: curves.map((p) => ({ x: p.epoch + 1, y: p.trainLoss })),
    },
    {
      name: 'validation loss',
      tone: 'line2',
      line: true,
      points: curves.map((p) => ({ x: p.epoch + 1, y: p.valLoss })),
    },
  ];
}

/** Validation Dice per structure per epoch. */
export function diceSeries(curves: readonly EpochPoint[]): ChartSeries[] {
  const labels = Object.keys(curves[0]?.valDice ?? {});
  const tones: Tone[] = ['line', 'line2', 'line3'];
  return labels.map((name, i) => ({
    name: `Dice ${name}`,
    tone: tones[i % tones.length] as Tone,
    line: true,
    points: curves.map((p) => ({ x: p.epoch + 1, y: p.valDice[name] ?? 0 })),
  }));
}
