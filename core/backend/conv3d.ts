// Runs in: the process that trains networks. 3D convolutions on the WebAssembly engine, channels last:
// the forward pass, the input gradient (as a convolution with the flipped, transposed filter, or, for a
// stride equal to the kernel, as the transposed convolution's matrix product and scatter) and the filter
// gradient. Each call works through the batch in slabs of output planes sized to the engine's memory
// bound, so any patch trains as long as one plane fits.

import { EmonasError } from '../base/errors.ts';
import { JOB_CONV, JOB_FILTER_GRAD, JOB_PAD, JOB_SCATTER, type WasmEngine } from './wasm-engine.ts';

/** Shapes of one convolution as the forward pass sees it: input -> output through a kd x kh x kw kernel. */
export interface ConvGeometry {
  batch: number;
  inD: number;
  inH: number;
  inW: number;
  inC: number;
  outD: number;
  outH: number;
  outW: number;
  outC: number;
  kd: number;
  kh: number;
  kw: number;
  sd: number;
  sh: number;
  sw: number;
  /** Zero padding before the first input voxel on each axis (front, top, left). */
  pd: number;
  ph: number;
  pw: number;
}

/** What the shared convolution driver needs beyond the geometry: the packed right-hand matrix. */
interface ConvPlan {
  g: ConvGeometry;
  /** Writes the filter as [ceil(outC/8)][kd*kh*kw*inC][8] floats at f32[at...], zero beyond outC. */
  pack(f32: Float32Array, at: number): void;
  purpose: string;
}

/** y = conv3d(x, filter), filter [kd][kh][kw][inC][outC]. */
export function convForward(engine: WasmEngine, x: Float32Array, filter: Float32Array, g: ConvGeometry): Float32Array {
  return runConvolution(engine, x, {
    g,
    purpose: 'a 3D convolution',
    pack: (f32, at) => packColumns(f32, at, g.kd * g.kh * g.kw * g.inC, g.outC, (k, n) => filter[k * g.outC + n] ?? 0),
  });
}

/** Whether convInputGrad can compute this geometry's input gradient. */
export function inputGradSupported(g: ConvGeometry): boolean {
  if (g.sd === 1 && g.sh === 1 && g.sw === 1) return true;
  return isStrideKernel(g);
}

/** dx of y = conv3d(x, filter) given dy; see inputGradSupported. Also the transposed convolution's forward. */
export function convInputGrad(engine: WasmEngine, dy: Float32Array, filter: Float32Array, g: ConvGeometry): Float32Array {
  if (isStrideKernel(g) && !(g.sd === 1 && g.sh === 1 && g.sw === 1)) return stridedInputGrad(engine, dy, filter, g);
  // dx[i] = sum_t dy[i - (k-1-p) + t] W[k-1-t]^T: a stride-1 convolution of dy with the flipped, transposed
  // filter and the complementary padding.
  const { kd, kh, kw, inC, outC } = g;
  const flipped: ConvGeometry = {
    batch: g.batch,
    inD: g.outD,
    inH: g.outH,
    inW: g.outW,
    inC: outC,
    outD: g.inD,
    outH: g.inH,
    outW: g.inW,
    outC: inC,
    kd,
    kh,
    kw,
    sd: 1,
    sh: 1,
    sw: 1,
    pd: kd - 1 - g.pd,
    ph: kh - 1 - g.ph,
    pw: kw - 1 - g.pw,
  };
  return runConvolution(engine, dy, {
    g: flipped,
    purpose: 'the input gradient of a 3D convolution',
    pack: (f32, at) =>
      packColumns(f32, at, kd * kh * kw * outC, inC, (k, n) => {
        const co = k % outC;
        const tap = (k - co) / outC;
        const c = tap % kw;
        const b = ((tap - c) / kw) % kh;
        const a = (tap - c - b * kw) / (kw * kh);
        const source = ((kd - 1 - a) * kh + (kh - 1 - b)) * kw + (kw - 1 - c);
        return filter[(source * inC + n) * outC + co] ?? 0;
      }),
  });
}

/** dW of y = conv3d(x, filter) given x and dy, as [kd][kh][kw][inC][outC]. */
export function convFilterGrad(engine: WasmEngine, x: Float32Array, dy: Float32Array, g: ConvGeometry): Float32Array {
  engine.reset();
  const { kd, kh, kw, inC, outC } = g;
  const L = kw * inC;
  const Lp = roundUp(L, 4);
  const Cp = roundUp(outC, 8);
  const ntap = kd * kh;
  const partialFloats = ntap * Lp * Cp;
  const partials = engine.alloc(partialFloats * 4 * engine.threads, 'filter gradient sums');
  engine.f32.fill(0, partials / 4, partials / 4 + partialFloats * engine.threads);
  const padded = paddedExtents(g);
  const taps = writeTaps(engine, g, padded);
  const slab = planSlabs(engine, g, padded, 'the filter gradient of a 3D convolution', (planes) =>
    outC === Cp ? 0 : planes * g.outH * g.outW * Cp * 4,
  );
  const rowsPerChunkFor = (rows: number): number =>
    Math.max(1, Math.min(256, Math.ceil(256 / g.outW), Math.ceil(rows / (2 * engine.threads))));
  for (let b = 0; b < g.batch; b++) {
    for (let o0 = 0; o0 < g.outD; o0 += slab.planes) {
      const planes = Math.min(slab.planes, g.outD - o0);
      const xp = stageInput(engine, x, g, padded, slab, b, o0, planes);
      const dyStart = ((b * g.outD + o0) * g.outH * g.outW) * outC;
      const dyCount = planes * g.outH * g.outW * outC;
      let gradient = slab.output;
      engine.f32.set(dy.subarray(dyStart, dyStart + dyCount), slab.output / 4);
      if (Cp !== outC) {
        gradient = slab.extra;
        engine.run(JOB_PAD, planes, [slab.output, planes, g.outH, g.outW, outC, gradient, planes, g.outH, g.outW, Cp, 0, 0, 0]);
      }
      const rows = planes * g.outH;
      const perChunk = rowsPerChunkFor(rows);
      engine.run(JOB_FILTER_GRAD, Math.ceil(rows / perChunk), [
        xp,
        padded.Hp,
        padded.Wp,
        inC,
        g.sd,
        g.sh,
        g.sw,
        gradient,
        g.outH,
        g.outW,
        rows,
        Cp,
        taps,
        ntap,
        L,
        partials,
        partialFloats * 4,
        perChunk,
        Lp,
      ]);
    }
  }
  const f32 = engine.f32;
  const result = new Float32Array(ntap * L * outC);
  for (let t = 0; t < ntap; t++) {
    for (let l = 0; l < L; l++) {
      const to = (t * L + l) * outC;
      const from = partials / 4 + (t * Lp + l) * Cp;
      for (let c = 0; c < outC; c++) {
        let sum = 0;
        for (let tid = 0; tid < engine.threads; tid++) sum += f32[from + tid * partialFloats + c] as number;
        result[to + c] = sum;
      }
    }
  }
  return result;
}

function isStrideKernel(g: ConvGeometry): boolean {
  return (
    g.kd === g.sd &&
    g.kh === g.sh &&
    g.kw === g.sw &&
    g.pd === 0 &&
    g.ph === 0 &&
    g.pw === 0 &&
    g.inD === g.outD * g.sd &&
    g.inH === g.outH * g.sh &&
    g.inW === g.outW * g.sw
  );
}

/**
 * The input gradient when stride equals kernel: each dy voxel spreads over its own kd x kh x kw block of
 * dx, so dx is the product dy [V][outC] x filter^T [outC][k*inC] with its rows scattered.
 */
function stridedInputGrad(engine: WasmEngine, dy: Float32Array, filter: Float32Array, g: ConvGeometry): Float32Array {
  engine.reset();
  const { kd, kh, kw, inC, outC, outH, outW } = g;
  const nk = kd * kh * kw;
  const N = nk * inC;
  const nblk = Math.ceil(N / 8);
  const packed = engine.alloc(nblk * outC * 32, 'the packed filter of a transposed convolution');
  packColumns(engine.f32, packed / 4, outC, N, (co, n) => {
    const ci = n % inC;
    const tap = (n - ci) / inC;
    return filter[(tap * inC + ci) * outC + co] ?? 0;
  });
  const taps = engine.alloc(4, 'kernel offsets');
  engine.i32[taps / 4] = 0;
  const planeIn = outH * outW * outC;
  const planeOut = outH * outW * N;
  const purpose = 'a transposed 3D convolution';
  const planes = Math.max(1, Math.min(g.outD, Math.floor(engine.available() / ((planeIn + 2 * planeOut) * 4 + 1024))));
  const staged = engine.alloc(planes * planeIn * 4, purpose);
  const products = engine.alloc(planes * planeOut * 4, purpose);
  const spread = engine.alloc(planes * planeOut * 4, purpose);
  const dx = allocOutput(g.batch * g.inD * g.inH * g.inW * inC, purpose);
  for (let b = 0; b < g.batch; b++) {
    for (let o0 = 0; o0 < g.outD; o0 += planes) {
      const n = Math.min(planes, g.outD - o0);
      const start = (b * g.outD + o0) * planeIn;
      engine.f32.set(dy.subarray(start, start + n * planeIn), staged / 4);
      const V = n * outH * outW;
      const per = voxelsPerChunk(engine, V);
      engine.run(JOB_CONV, Math.ceil(V / per), [
        staged,
        outH,
        outW,
        outC,
        1,
        1,
        1,
        products,
        outH,
        outW,
        V,
        N,
        taps,
        1,
        outC,
        packed,
        nblk,
        per,
      ]);
      engine.run(JOB_SCATTER, n, [products, outH, outW, kd, kh, kw, inC, spread]);
      const to = (b * g.outD + o0) * planeOut;
      dx.set(engine.f32.subarray(spread / 4, spread / 4 + n * planeOut), to);
    }
  }
  return dx;
}

interface PaddedExtents {
  Dp: number;
  Hp: number;
  Wp: number;
  /** The staged input is read as it is: no padding, and rows and planes already have the padded length. */
  inPlace: boolean;
}

function paddedExtents(g: ConvGeometry): PaddedExtents {
  const Dp = (g.outD - 1) * g.sd + g.kd;
  const Hp = (g.outH - 1) * g.sh + g.kh;
  const Wp = (g.outW - 1) * g.sw + g.kw;
  const inPlace = g.pd === 0 && g.ph === 0 && g.pw === 0 && Dp <= g.inD && Hp === g.inH && Wp === g.inW;
  return { Dp, Hp, Wp, inPlace };
}

interface SlabPlan {
  planes: number;
  staged: number;
  padded: number;
  output: number;
  extra: number;
}

/**
 * Picks how many output planes one pass handles so the staged input, its padded copy, the output slab and
 * `extraBytes` fit the memory bound, and reserves them.
 */
function planSlabs(
  engine: WasmEngine,
  g: ConvGeometry,
  p: PaddedExtents,
  purpose: string,
  extraBytes: (planes: number) => number,
): SlabPlan {
  const bytesFor = (planes: number): number => {
    const inPlanes = Math.min(g.inD, (planes - 1) * g.sd + g.kd);
    const staged = inPlanes * g.inH * g.inW * g.inC * 4;
    const padded = p.inPlace ? 0 : ((planes - 1) * g.sd + g.kd) * p.Hp * p.Wp * g.inC * 4;
    return staged + padded + planes * g.outH * g.outW * g.outC * 4 + extraBytes(planes) + 4 * 256;
  };
  let planes = g.outD;
  const room = engine.available();
  while (planes > 1 && bytesFor(planes) > room) planes = Math.max(1, Math.floor(planes / 2));
  const inPlanes = Math.min(g.inD, (planes - 1) * g.sd + g.kd);
  const staged = engine.alloc(inPlanes * g.inH * g.inW * g.inC * 4, purpose);
  const padded = p.inPlace ? staged : engine.alloc(((planes - 1) * g.sd + g.kd) * p.Hp * p.Wp * g.inC * 4, purpose);
  const output = engine.alloc(planes * g.outH * g.outW * g.outC * 4, purpose);
  const extraSize = extraBytes(planes);
  const extra = extraSize > 0 ? engine.alloc(extraSize, purpose) : 0;
  return { planes, staged, padded, output, extra };
}

/** Copies the input planes under output planes [o0, o0 + planes) of batch item b and pads them. */
function stageInput(
  engine: WasmEngine,
  x: Float32Array,
  g: ConvGeometry,
  p: PaddedExtents,
  slab: SlabPlan,
  b: number,
  o0: number,
  planes: number,
): number {
  const first = o0 * g.sd - g.pd;
  const paddedPlanes = (planes - 1) * g.sd + g.kd;
  const from = Math.max(0, first);
  const to = Math.min(g.inD, first + paddedPlanes);
  const plane = g.inH * g.inW * g.inC;
  if (to > from) {
    const start = (b * g.inD + from) * plane;
    engine.f32.set(x.subarray(start, start + (to - from) * plane), slab.staged / 4);
  }
  if (p.inPlace) return slab.staged;
  engine.run(JOB_PAD, paddedPlanes, [
    slab.staged,
    Math.max(0, to - from),
    g.inH,
    g.inW,
    g.inC,
    slab.padded,
    paddedPlanes,
    p.Hp,
    p.Wp,
    g.inC,
    from - first,
    g.ph,
    g.pw,
  ]);
  return slab.padded;
}

function runConvolution(engine: WasmEngine, x: Float32Array, plan: ConvPlan): Float32Array {
  engine.reset();
  const { g } = plan;
  const K = g.kd * g.kh * g.kw * g.inC;
  const nblk = Math.ceil(g.outC / 8);
  const packed = engine.alloc(nblk * K * 32, `the packed filter of ${plan.purpose}`);
  plan.pack(engine.f32, packed / 4);
  const padded = paddedExtents(g);
  const taps = writeTaps(engine, g, padded);
  const slab = planSlabs(engine, g, padded, plan.purpose, () => 0);
  const planeOut = g.outH * g.outW * g.outC;
  const y = allocOutput(g.batch * g.outD * planeOut, plan.purpose);
  for (let b = 0; b < g.batch; b++) {
    for (let o0 = 0; o0 < g.outD; o0 += slab.planes) {
      const planes = Math.min(slab.planes, g.outD - o0);
      const xp = stageInput(engine, x, g, padded, slab, b, o0, planes);
      const V = planes * g.outH * g.outW;
      const per = voxelsPerChunk(engine, V);
      engine.run(JOB_CONV, Math.ceil(V / per), [
        xp,
        padded.Hp,
        padded.Wp,
        g.inC,
        g.sd,
        g.sh,
        g.sw,
        slab.output,
        g.outH,
        g.outW,
        V,
        g.outC,
        taps,
        g.kd * g.kh,
        g.kw * g.inC,
        packed,
        nblk,
        per,
      ]);
      y.set(engine.f32.subarray(slab.output / 4, slab.output / 4 + planes * planeOut), (b * g.outD + o0) * planeOut);
    }
  }
  return y;
}

/** Byte offsets, within the padded input, of the kd*kh kernel rows. */
function writeTaps(engine: WasmEngine, g: ConvGeometry, p: PaddedExtents): number {
  const taps = engine.alloc(g.kd * g.kh * 4, 'kernel offsets');
  const i32 = engine.i32;
  for (let a = 0; a < g.kd; a++) {
    for (let b = 0; b < g.kh; b++) i32[taps / 4 + a * g.kh + b] = (a * p.Hp + b) * p.Wp * g.inC * 4;
  }
  return taps;
}

/** Lays a K x N matrix given by value(k, n) out as 8-column panels [ceil(N/8)][K][8], zero-filled. */
function packColumns(
  f32: Float32Array,
  at: number,
  K: number,
  N: number,
  value: (k: number, n: number) => number,
): void {
  const nblk = Math.ceil(N / 8);
  for (let nb = 0; nb < nblk; nb++) {
    const cols = Math.min(8, N - nb * 8);
    let o = at + nb * K * 8;
    for (let k = 0; k < K; k++, o += 8) {
      for (let j = 0; j < 8; j++) f32[o + j] = j < cols ? value(k, nb * 8 + j) : 0;
    }
  }
}

function voxelsPerChunk(engine: WasmEngine, V: number): number {
  return Math.max(4, Math.min(256, roundUp(Math.ceil(V / (8 * engine.threads)), 4)));
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** A result array; the host running out of memory becomes a candidate failure with a sentence. */
export function allocOutput(length: number, purpose: string): Float32Array {
  try {
    return new Float32Array(length);
  } catch (err) {
    throw new EmonasError(
      'out_of_memory',
      `The computer ran out of memory for the ${Math.ceil((length * 4) / 2 ** 20)} MiB result of ${purpose}: ` +
        'close other programs, or use a smaller patch or batch.',
      { cause: err },
    );
  }
}
