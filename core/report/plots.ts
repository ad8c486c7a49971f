// Runs in: any process. The report's plots as inline SVG (no script, no external file): the Pareto plot of
// every trained candidate with the front and the chosen one marked, and a line plot (the hypervolume per
// generation). Each point carries an SVG <title>, so hovering names it without any JavaScript.

export interface ScatterPoint {
  id: string;
  /** Network parameters (plotted on a log axis). */
  params: number;
  f1: number;
  onFront: boolean;
  chosen: boolean;
}

export interface LinePoint {
  x: number;
  y: number;
}

const WIDTH = 520;
const HEIGHT = 340;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 46 };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function format(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** About `count` round tick values covering [lo, hi]; whole numbers only when `integer`. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = Math.max((hi - lo) / count, integer ? 1 : 0);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function padded(lo: number, hi: number): [number, number] {
  if (hi > lo) {
    const pad = (hi - lo) * 0.06;
    return [lo - pad, hi + pad];
  }
  const pad = Math.abs(lo) * 0.1 || 1;
  return [lo - pad, hi + pad];
}

interface Axes {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string;
}

function axes(
  xRange: [number, number],
  yRange: [number, number],
  xTicks: { value: number; label: string }[],
  yTicks: number[],
  xLabel: string,
  yLabel: string,
): Axes {
  const [x0, x1] = xRange;
  const [y0, y1] = yRange;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((v - x0) / (x1 - x0)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const parts = [
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`,
  ];
  for (const t of xTicks) {
    const px = x(t.value).toFixed(1);
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${px}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  for (const t of yTicks) {
    const py = y(t).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py}" y2="${py}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${format(t)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  return { x, y, svg: parts.join('') };
}

function svg(label: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" ` +
    `role="img" aria-label="${escapeXml(label)}" font-family="sans-serif" font-size="11">${body}</svg>`
  );
}

/** f1 against parameters (log axis): every candidate in grey, the front joined in blue, the chosen ringed. */
export function paretoPlot(points: readonly ScatterPoint[]): string {
  const logs = points.map((p) => Math.log10(Math.max(1, p.params)));
  const f1s = points.map((p) => p.f1);
  const xRange = padded(Math.min(...logs), Math.max(...logs));
  const yRange = padded(Math.min(...f1s), Math.max(...f1s));
  const xTicks: { value: number; label: string }[] = [];
  for (let e = Math.floor(xRange[0]); e <= Math.ceil(xRange[1]); e++) {
    for (const m of xRange[1] - xRange[0] < 2 ? [1, 2, 5] : [1]) {
      const value = e + Math.log10(m);
      if (value >= xRange[0] && value <= xRange[1]) xTicks.push({ value, label: format(10 ** value) });
    }
  }
  const a = axes(
    xRange,
    yRange,
    xTicks,
    niceTicks(...yRange),
    'parameters (log scale)',
    'f1: expected segmentation error',
  );
  const front = points
    .filter((p) => p.onFront)
    .sort((p, q) => p.params - q.params)
    .map((p) => `${a.x(Math.log10(Math.max(1, p.params))).toFixed(1)},${a.y(p.f1).toFixed(1)}`);
  const dots = points
    .slice()
    .sort((p, q) => Number(p.onFront) - Number(q.onFront))
    .map((p) => {
      const cx = a.x(Math.log10(Math.max(1, p.params))).toFixed(1);
      const cy = a.y(p.f1).toFixed(1);
      const title = `<title>${escapeXml(`${p.id}: ${p.params.toLocaleString('en')} parameters, f1 ${p.f1.toFixed(4)}`)}</title>`;
      const style = p.onFront ? 'fill="#1f5fbf" r="4.5"' : 'fill="#b9b9b9" r="3.5"';
      const ring = p.chosen
        ? `<circle cx="${cx}" cy="${cy}" r="9" fill="none" stroke="#d62728" stroke-width="2.5"/>` +
          `<text x="${cx}" y="${(Number(cy) - 13).toFixed(1)}" text-anchor="middle" fill="#d62728" font-weight="bold">${escapeXml(p.id)}</text>`
        : '';
      return `<circle class="candidate${p.onFront ? ' front' : ''}" cx="${cx}" cy="${cy}" ${style}>${title}</circle>${ring}`;
    });
  return svg(
    'Pareto plot: expected segmentation error against network size',
    a.svg +
      (front.length > 1
        ? `<polyline points="${front.join(' ')}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>`
        : '') +
      dots.join(''),
  );
}

/** A line through the points; `integerX` keeps x ticks on whole numbers (generations, epochs). */
export function linePlot(
  points: readonly LinePoint[],
  xLabel: string,
  yLabel: string,
  integerX = false,
): string {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xRange = padded(Math.min(...xs), Math.max(...xs));
  const yRange = padded(Math.min(...ys), Math.max(...ys));
  const xTicks = niceTicks(xRange[0], xRange[1], 5, integerX).map((value) => ({
    value,
    label: format(value),
  }));
  const a = axes(xRange, yRange, xTicks, niceTicks(...yRange), xLabel, yLabel);
  const line = points.map((p) => `${a.x(p.x).toFixed(1)},${a.y(p.y).toFixed(1)}`).join(' ');
  const dots = points
    .map(
      (p) =>
        `<circle class="point" cx="${a.x(p.x).toFixed(1)}" cy="${a.y(p.y).toFixed(1)}" r="3" fill="#1f5fbf"><title>${escapeXml(`${xLabel} ${p.x}: ${p.y.toFixed(4)}`)}</title></circle>`,
    )
    .join('');
  return svg(
    `${yLabel} by ${xLabel}`,
    a.svg + `<polyline points="${line}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>` + dots,
  );
}
