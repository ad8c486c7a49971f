// Runs in: the process that trains networks. 3D convolutions on the WebAssembly engine, channels last:
// the forward pass, the input gradient (as a convolution with the flipped, transposed filter, or, for a
// stride equal to the kernel, as the transposed convolution's matrix product and scatter) and the filter
// gradient. Tensors in the engine's heap are read and written in place; the working memory (a padded copy
// of the input, and staging for tensors outside the heap) is planned in slabs of output planes that fit
// the memory bound, so any patch trains as long as one plane fits.

import { EmonasError } from '../base/errors.ts';
import { winogradApplies, winogradConvolution, winogradFilterGrad, type FilterWeight } from './winograd.ts';
import {
  JOB_CONV,
  JOB_FILTER_GRAD,
  JOB_PAD,
  JOB_SCATTER,
  type Scratch,
  type WasmEngine,
} from './wasm-engine.ts';

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

/** y = conv3d(x, filter), filter [kd][kh][kw][inC][outC]. */
export function convForward(
  engine: WasmEngine,
  x: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
): Float32Array {
  return runConvolution(
    engine,
    x,
    g,
    'a 3D convolution',
    (tap, ci, co) => filter[(tap * g.inC + ci) * g.outC + co] ?? 0,
  );
}

/** Whether convInputGrad can compute this geometry's input gradient. */
export function inputGradSupported(g: ConvGeometry): boolean {
  return (g.sd === 1 && g.sh === 1 && g.sw === 1) || isStrideKernel(g);
}

/** dx of y = conv3d(x, filter) given dy; see inputGradSupported. Also the transposed convolution's forward. */
export function convInputGrad(
  engine: WasmEngine,
  dy: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
): Float32Array {
  if (isStrideKernel(g) && !(g.sd === 1 && g.sh === 1 && g.sw === 1))
    return stridedInputGrad(engine, dy, filter, g);
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
  const taps = kd * kh * kw;
  return runConvolution(
    engine,
    dy,
    flipped,
    'the input gradient of a 3D convolution',
    (tap, co, ci) => filter[((taps - 1 - tap) * inC + ci) * outC + co] ?? 0,
  );
}

/** dW of y = conv3d(x, filter) given x and dy, as [kd][kh][kw][inC][outC]. */
export function convFilterGrad(
  engine: WasmEngine,
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): Float32Array {
  if (winogradApplies(g)) {
    const dw = orWhenShort(() => winogradFilterGrad(engine, x, dy, g));
    if (dw !== undefined) return dw;
  }
  const scratch = engine.scratch();
  try {
    const { kd, kh, kw, inC, outC } = g;
    const L = kw * inC;
    const Lp = roundUp(L, 4);
    const Cp = roundUp(outC, 8);
    const ntap = kd * kh;
    const partialFloats = ntap * Lp * Cp;
    const purpose = 'the filter gradient of a 3D convolution';
    const partials = scratch.alloc(partialFloats * 4 * engine.threads, purpose);
    engine.f32.fill(0, partials / 4, partials / 4 + partialFloats * engine.threads);
    const padded = paddedExtents(g);
    const taps = writeTaps(engine, scratch, g, padded);
    const dyAt = engine.addressOf(dy);
    const planeOut = g.outH * g.outW * outC;
    const slab = planSlabs(engine, scratch, x, g, padded, purpose, (planes) => [
      dyAt === undefined ? planes * planeOut * 4 : 0,
      Cp === outC ? 0 : planes * g.outH * g.outW * Cp * 4,
    ]);
    const [dyStage = 0, dyPadded = 0] = slab.extra;
    for (let b = 0; b < g.batch; b++) {
      for (let o0 = 0; o0 < g.outD; o0 += slab.planes) {
        const planes = Math.min(slab.planes, g.outD - o0);
        const xp = stageInput(engine, x, g, padded, slab, b, o0, planes);
        const first = (b * g.outD + o0) * planeOut;
        let gradient: number;
        if (dyAt !== undefined) {
          gradient = dyAt + first * 4;
        } else {
          engine.f32.set(dy.subarray(first, first + planes * planeOut), dyStage / 4);
          gradient = dyStage;
        }
        if (Cp !== outC) {
          engine.run(JOB_PAD, planes, [
            gradient,
            planes,
            g.outH,
            g.outW,
            outC,
            dyPadded,
            planes,
            g.outH,
            g.outW,
            Cp,
            0,
            0,
            0,
          ]);
          gradient = dyPadded;
        }
        const rows = planes * g.outH;
        const perChunk = Math.max(
          1,
          Math.min(256, Math.ceil(256 / g.outW), Math.ceil(rows / (2 * engine.threads))),
        );
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
    const result = engine.newTensor(ntap * L * outC, purpose);
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
  } finally {
    scratch.release();
  }
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
function stridedInputGrad(
  engine: WasmEngine,
  dy: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
): Float32Array {
  const scratch = engine.scratch();
  try {
    const { kd, kh, kw, inC, outC, outH, outW } = g;
    const purpose = 'a transposed 3D convolution';
    const N = kd * kh * kw * inC;
    const nblk = Math.ceil(N / 8);
    const packed = scratch.alloc(nblk * outC * 32, purpose);
    packColumns(engine.f32, packed / 4, outC, N, (co, n) => {
      const ci = n % inC;
      const tap = (n - ci) / inC;
      return filter[(tap * inC + ci) * outC + co] ?? 0;
    });
    const taps = scratch.alloc(4, purpose);
    engine.i32[taps / 4] = 0;
    const planeIn = outH * outW * outC;
    const planeOut = outH * outW * N;
    return engine.newTensorFilled(g.batch * g.inD * g.inH * g.inW * inC, purpose, (dx) => {
      const dyAt = engine.addressOf(dy);
      const dxAt = engine.addressOf(dx);
      const { planes, blocks } = scratch.reserveSlabs(g.outD, purpose, (n) => [
        n * planeOut * 4,
        dyAt === undefined ? n * planeIn * 4 : 0,
        dxAt === undefined ? n * planeOut * 4 : 0,
      ]);
      const [products = 0, staged = 0, spread = 0] = blocks;
      for (let b = 0; b < g.batch; b++) {
        for (let o0 = 0; o0 < g.outD; o0 += planes) {
          const n = Math.min(planes, g.outD - o0);
          const start = (b * g.outD + o0) * planeIn;
          let source = staged;
          if (dyAt === undefined) engine.f32.set(dy.subarray(start, start + n * planeIn), staged / 4);
          else source = dyAt + start * 4;
          const V = n * outH * outW;
          const per = voxelsPerChunk(engine, V);
          engine.run(JOB_CONV, Math.ceil(V / per), [
            source,
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
          const to = (b * g.outD + o0) * planeOut;
          const target = dxAt === undefined ? spread : dxAt + to * 4;
          engine.run(JOB_SCATTER, n, [products, outH, outW, kd, kh, kw, inC, target]);
          if (dxAt === undefined) dx.set(engine.f32.subarray(spread / 4, spread / 4 + n * planeOut), to);
        }
      }
    });
  } finally {
    scratch.release();
  }
}

interface PaddedExtents {
  Dp: number;
  Hp: number;
  Wp: number;
  /** The input is read as it is: no padding, and rows and planes already have the padded length. */
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
  /** Address of the input in the heap, or of its staging copy (then `stagedCopy`). */
  inputAt: number;
  stagedCopy: boolean;
  padded: number;
  /** The blocks asked for by `extras`, 0 where a size was 0. */
  extra: number[];
}

/**
 * Picks how many output planes one pass handles so the working memory (the padded input slab, staging for
 * an input outside the heap, and the blocks of `extras`) fits, and reserves it; halves the slab when the
 * heap, though large enough in total, has no blocks that large.
 */
function planSlabs(
  engine: WasmEngine,
  scratch: Scratch,
  x: Float32Array,
  g: ConvGeometry,
  p: PaddedExtents,
  purpose: string,
  extras: (planes: number) => number[],
): SlabPlan {
  const xAt = engine.addressOf(x);
  const inPlaneBytes = g.inH * g.inW * g.inC * 4;
  const paddedPlaneBytes = p.Hp * p.Wp * g.inC * 4;
  const sizes = (planes: number): number[] => {
    const span = (planes - 1) * g.sd + g.kd;
    return [
      xAt === undefined ? Math.min(g.inD, span) * inPlaneBytes : 0,
      p.inPlace ? 0 : span * paddedPlaneBytes,
      ...extras(planes),
    ];
  };
  const { planes, blocks } = scratch.reserveSlabs(g.outD, purpose, sizes);
  const [staged = 0, padded = 0, ...extra] = blocks;
  return { planes, inputAt: xAt ?? staged, stagedCopy: xAt === undefined, padded, extra };
}

/** The address of the (padded) input planes under output planes [o0, o0 + planes) of batch item b. */
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
  const span = (planes - 1) * g.sd + g.kd;
  const from = Math.max(0, first);
  const to = Math.min(g.inD, first + span);
  const plane = g.inH * g.inW * g.inC;
  const start = (b * g.inD + from) * plane;
  let source = slab.inputAt + start * 4;
  if (slab.stagedCopy) {
    if (to > from) engine.f32.set(x.subarray(start, start + (to - from) * plane), slab.inputAt / 4);
    source = slab.inputAt;
  }
  if (p.inPlace) return source;
  engine.run(JOB_PAD, span, [
    source,
    Math.max(0, to - from),
    g.inH,
    g.inW,
    g.inC,
    slab.padded,
    span,
    p.Hp,
    p.Wp,
    g.inC,
    from - first,
    g.ph,
    g.pw,
  ]);
  return slab.padded;
}

/**
 * A stride-1 or strided convolution of x through the filter weight(tap, input channel, output channel),
 * taps numbered (a * kh + b) * kw + c; 3x3x3 stride-1 'same' ones by Winograd's algorithm.
 */
function runConvolution(
  engine: WasmEngine,
  x: Float32Array,
  g: ConvGeometry,
  purpose: string,
  weight: FilterWeight,
): Float32Array {
  if (winogradApplies(g)) {
    const y = orWhenShort(() => winogradConvolution(engine, x, g, purpose, weight));
    if (y !== undefined) return y;
  }
  const scratch = engine.scratch();
  try {
    const K = g.kd * g.kh * g.kw * g.inC;
    const nblk = Math.ceil(g.outC / 8);
    const packed = scratch.alloc(nblk * K * 32, `the packed filter of ${purpose}`);
    packColumns(engine.f32, packed / 4, K, g.outC, (k, n) => weight(Math.floor(k / g.inC), k % g.inC, n));
    const padded = paddedExtents(g);
    const taps = writeTaps(engine, scratch, g, padded);
    const planeOut = g.outH * g.outW * g.outC;
    return engine.newTensorFilled(g.batch * g.outD * planeOut, purpose, (y) => {
      const yAt = engine.addressOf(y);
      const slab = planSlabs(engine, scratch, x, g, padded, purpose, (planes) => [
        yAt === undefined ? planes * planeOut * 4 : 0,
      ]);
      const [outStage = 0] = slab.extra;
      for (let b = 0; b < g.batch; b++) {
        for (let o0 = 0; o0 < g.outD; o0 += slab.planes) {
          const planes = Math.min(slab.planes, g.outD - o0);
          const xp = stageInput(engine, x, g, padded, slab, b, o0, planes);
          const V = planes * g.outH * g.outW;
          const per = voxelsPerChunk(engine, V);
          const first = (b * g.outD + o0) * planeOut;
          const out = yAt === undefined ? outStage : yAt + first * 4;
          engine.run(JOB_CONV, Math.ceil(V / per), [
            xp,
            padded.Hp,
            padded.Wp,
            g.inC,
            g.sd,
            g.sh,
            g.sw,
            out,
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
          if (yAt === undefined)
            y.set(engine.f32.subarray(outStage / 4, outStage / 4 + planes * planeOut), first);
        }
      }
    });
  } finally {
    scratch.release();
  }
}

/**
 * Winograd's working memory (a few hundred KiB per thread) does not shrink with the slab: where the
 * memory bound leaves less, the direct convolution, which needs only its slab, does the work.
 */
function orWhenShort(winograd: () => Float32Array): Float32Array | undefined {
  try {
    return winograd();
  } catch (err) {
    if (err instanceof EmonasError && err.code === 'out_of_memory') return undefined;
    throw err;
  }
}

/** Byte offsets, within the padded input, of the kd*kh kernel rows. */
function writeTaps(engine: WasmEngine, scratch: Scratch, g: ConvGeometry, p: PaddedExtents): number {
  const taps = scratch.alloc(g.kd * g.kh * 4, 'kernel offsets');
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
