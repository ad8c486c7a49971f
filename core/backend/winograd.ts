// Runs in: the process that trains networks. 3x3x3 stride-1 'same' convolutions (the forward pass, the
// input gradient and the filter gradient of conv3d_3x3x3) by Winograd's F(2x2x2, 3x3x3) on the WebAssembly
// engine: 64 products per pair of channels for each 2x2x2 block of outputs instead of 216. This file
// transforms the filter (and the filter gradient back) and plans the slabs; assembly/kernels.ts transforms
// the input and output tiles.

import type { ConvGeometry } from './conv3d.ts';
import { JOB_PAD, JOB_WINOGRAD, JOB_WINOGRAD_FILTER_GRAD, type WasmEngine } from './wasm-engine.ts';

/** The filter as weight(tap, input channel, output channel), taps numbered (a * kh + b) * kw + c. */
export type FilterWeight = (tap: number, ci: number, co: number) => number;

/** G of F(2, 3): the filter transform, a 4x3 matrix. */
const G = [
  [1, 0, 0],
  [0.5, 0.5, 0.5],
  [0.5, -0.5, 0.5],
  [0, 0, 1],
] as const;

/** Per-thread working memory aimed for: the tiles' V and M stay in the core's L2 cache. */
const TILE_BYTES = 256 * 1024;

export function winogradApplies(g: ConvGeometry): boolean {
  return (
    g.kd === 3 &&
    g.kh === 3 &&
    g.kw === 3 &&
    g.sd === 1 &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.pd === 1 &&
    g.ph === 1 &&
    g.pw === 1 &&
    g.inD === g.outD &&
    g.inH === g.outH &&
    g.inW === g.outW &&
    g.inC % 4 === 0 &&
    g.outC % 4 === 0
  );
}

/** U = G g G' on every axis, laid out [64][ceil(Co/8)][Ci][8] with positions (i * 4 + j) * 4 + l. */
function transformFilter(f32: Float32Array, at: number, Ci: number, Co: number, weight: FilterWeight): void {
  const nblk = Math.ceil(Co / 8);
  const g = new Float64Array(27);
  const u1 = new Float64Array(36);
  const u2 = new Float64Array(48);
  for (let ci = 0; ci < Ci; ci++) {
    for (let co = 0; co < nblk * 8; co++) {
      const at0 = at + ((Math.floor(co / 8) * Ci + ci) * 8 + (co % 8));
      if (co >= Co) {
        for (let p = 0; p < 64; p++) f32[at0 + p * nblk * Ci * 8] = 0;
        continue;
      }
      for (let t = 0; t < 27; t++) g[t] = weight(t, ci, co);
      // Along w: g[a][b][c] -> u1[a][b][l].
      for (let ab = 0; ab < 9; ab++) {
        for (let l = 0; l < 4; l++) {
          const row = G[l] as readonly number[];
          u1[ab * 4 + l] = row[0]! * g[ab * 3]! + row[1]! * g[ab * 3 + 1]! + row[2]! * g[ab * 3 + 2]!;
        }
      }
      // Along h: u1[a][b][l] -> u2[a][j][l].
      for (let a = 0; a < 3; a++) {
        for (let j = 0; j < 4; j++) {
          const row = G[j] as readonly number[];
          for (let l = 0; l < 4; l++) {
            u2[(a * 4 + j) * 4 + l] =
              row[0]! * u1[a * 3 * 4 + l]! +
              row[1]! * u1[(a * 3 + 1) * 4 + l]! +
              row[2]! * u1[(a * 3 + 2) * 4 + l]!;
          }
        }
      }
      // Along d, into the packed layout.
      for (let i = 0; i < 4; i++) {
        const row = G[i] as readonly number[];
        for (let jl = 0; jl < 16; jl++) {
          const v = row[0]! * u2[jl]! + row[1]! * u2[16 + jl]! + row[2]! * u2[32 + jl]!;
          f32[at0 + (i * 16 + jl) * nblk * Ci * 8] = v;
        }
      }
    }
  }
}

/** The convolution of winogradApplies' shapes; see runConvolution in conv3d.ts for the contract. */
export function winogradConvolution(
  engine: WasmEngine,
  x: Float32Array,
  g: ConvGeometry,
  purpose: string,
  weight: FilterWeight,
): Float32Array {
  const scratch = engine.scratch();
  try {
    const Ci = g.inC;
    const Co = g.outC;
    const nblk = Math.ceil(Co / 8);
    const Cp = nblk * 8;
    const U = scratch.alloc(64 * nblk * Ci * 32, `the transformed filter of ${purpose}`);
    transformFilter(engine.f32, U / 4, Ci, Co, weight);
    const TH = Math.ceil(g.outH / 2);
    const TW = Math.ceil(g.outW / 2);
    const Hp = 2 * TH + 2;
    const Wp = 2 * TW + 2;
    const T = Math.max(4, Math.min(32, Math.floor(TILE_BYTES / (256 * (Ci + Cp)) / 4) * 4));
    const perThread = 64 * T * (Ci + Cp) * 4 + 1024;
    const tiles = scratch.alloc(perThread * engine.threads, `the tiles of ${purpose}`);
    const plane = g.inH * g.inW * Ci;
    const planeOut = g.outH * g.outW * Co;
    return engine.newTensorFilled(g.batch * g.outD * planeOut, purpose, (y) => {
      const xAt = engine.addressOf(x);
      const yAt = engine.addressOf(y);
      // Slabs of an even number of output planes: input planes [o0 - 1, o0 + planes + 1), padded.
      const { planes: most, blocks } = scratch.reserveSlabs(Math.ceil(g.outD / 2), purpose, (pairs) => [
        xAt === undefined ? Math.min(g.inD, 2 * pairs + 2) * plane * 4 : 0,
        (2 * pairs + 2) * Hp * Wp * Ci * 4,
        yAt === undefined ? 2 * pairs * planeOut * 4 : 0,
      ]);
      const [staged = 0, padded = 0, outStage = 0] = blocks;
      for (let b = 0; b < g.batch; b++) {
        for (let o0 = 0; o0 < g.outD; o0 += 2 * most) {
          const planes = Math.min(2 * most, g.outD - o0);
          const TD = Math.ceil(planes / 2);
          const source = stageWinogradInput(engine, x, g, xAt, staged, padded, b, o0, TD, Hp, Wp);
          const first = (b * g.outD + o0) * planeOut;
          const out = yAt === undefined ? outStage : yAt + first * 4;
          const total = TD * TH * TW;
          engine.run(JOB_WINOGRAD, Math.ceil(total / T), [
            source,
            Hp,
            Wp,
            Ci,
            TD,
            TH,
            TW,
            out,
            planes,
            g.outH,
            g.outW,
            Co,
            U,
            nblk,
            T,
            tiles,
            perThread,
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

/** dW [27][Ci][Co] = G' W G on every axis from the transformed gradient [64][Ci][Cp] (threads added). */
function transformGradientBack(parts: Float32Array[], Ci: number, Co: number, Cp: number): Float32Array {
  const dw = new Float32Array(27 * Ci * Co);
  const w = new Float64Array(64);
  const u1 = new Float64Array(48);
  const u2 = new Float64Array(36);
  for (let ci = 0; ci < Ci; ci++) {
    for (let co = 0; co < Co; co++) {
      for (let p = 0; p < 64; p++) {
        let sum = 0;
        for (const part of parts) sum += part[(p * Ci + ci) * Cp + co] as number;
        w[p] = sum;
      }
      // Along w: w[i][j][l] -> u1[i][j][c].
      for (let ij = 0; ij < 16; ij++) {
        for (let c = 0; c < 3; c++) {
          let v = 0;
          for (let l = 0; l < 4; l++) v += (G[l] as readonly number[])[c]! * w[ij * 4 + l]!;
          u1[ij * 3 + c] = v;
        }
      }
      // Along h: u1[i][j][c] -> u2[i][b][c].
      for (let i = 0; i < 4; i++) {
        for (let b = 0; b < 3; b++) {
          for (let c = 0; c < 3; c++) {
            let v = 0;
            for (let j = 0; j < 4; j++) v += (G[j] as readonly number[])[b]! * u1[(i * 4 + j) * 3 + c]!;
            u2[(i * 3 + b) * 3 + c] = v;
          }
        }
      }
      // Along d, into [a][b][c][ci][co].
      for (let a = 0; a < 3; a++) {
        for (let bc = 0; bc < 9; bc++) {
          let v = 0;
          for (let i = 0; i < 4; i++) v += (G[i] as readonly number[])[a]! * u2[i * 9 + bc]!;
          dw[((a * 9 + bc) * Ci + ci) * Co + co] = v;
        }
      }
    }
  }
  return dw;
}

/** dW [3][3][3][Ci][Co] of winogradApplies' shapes given x and dy. */
export function winogradFilterGrad(
  engine: WasmEngine,
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): Float32Array {
  const scratch = engine.scratch();
  try {
    const purpose = 'the filter gradient of a 3D convolution';
    const Ci = g.inC;
    const Co = g.outC;
    const Cp = Math.ceil(Co / 8) * 8;
    const TH = Math.ceil(g.outH / 2);
    const TW = Math.ceil(g.outW / 2);
    const Hp = 2 * TH + 2;
    const Wp = 2 * TW + 2;
    const T = Math.max(4, Math.min(32, Math.floor(TILE_BYTES / (256 * (Ci + Cp)) / 4) * 4));
    const perThread = 64 * T * (Ci + Cp) * 4 + 1024;
    const tiles = scratch.alloc(perThread * engine.threads, `the tiles of ${purpose}`);
    const partialFloats = 64 * Ci * Cp;
    const partials = scratch.alloc(partialFloats * 4 * engine.threads, purpose);
    engine.f32.fill(0, partials / 4, partials / 4 + partialFloats * engine.threads);
    const plane = g.inH * g.inW * Ci;
    const planeOut = g.outH * g.outW * Co;
    const xAt = engine.addressOf(x);
    const dyAt = engine.addressOf(dy);
    const { planes: most, blocks } = scratch.reserveSlabs(Math.ceil(g.outD / 2), purpose, (pairs) => [
      xAt === undefined ? Math.min(g.inD, 2 * pairs + 2) * plane * 4 : 0,
      (2 * pairs + 2) * Hp * Wp * Ci * 4,
      dyAt === undefined ? 2 * pairs * planeOut * 4 : 0,
    ]);
    const [staged = 0, padded = 0, dyStage = 0] = blocks;
    for (let b = 0; b < g.batch; b++) {
      for (let o0 = 0; o0 < g.outD; o0 += 2 * most) {
        const planes = Math.min(2 * most, g.outD - o0);
        const TD = Math.ceil(planes / 2);
        const source = stageWinogradInput(engine, x, g, xAt, staged, padded, b, o0, TD, Hp, Wp);
        const first = (b * g.outD + o0) * planeOut;
        let gradient = dyStage;
        if (dyAt === undefined) engine.f32.set(dy.subarray(first, first + planes * planeOut), dyStage / 4);
        else gradient = dyAt + first * 4;
        engine.run(JOB_WINOGRAD_FILTER_GRAD, Math.ceil((TD * TH * TW) / T), [
          source,
          Hp,
          Wp,
          Ci,
          TD,
          TH,
          TW,
          gradient,
          planes,
          g.outH,
          g.outW,
          Co,
          partials,
          partialFloats * 4,
          T,
          tiles,
          perThread,
          Cp,
        ]);
      }
    }
    const parts = Array.from({ length: engine.threads }, (_, t) =>
      engine.f32.subarray(partials / 4 + t * partialFloats, partials / 4 + (t + 1) * partialFloats),
    );
    const dw = transformGradientBack(parts, Ci, Co, Cp);
    const result = engine.newTensor(dw.length, purpose);
    result.set(dw);
    return result;
  } finally {
    scratch.release();
  }
}

/**
 * Pads the input planes under output planes [o0, o0 + 2 TD) of batch item b into [2TD+2][Hp][Wp][Ci], the
 * data at offset 1 on every axis, and returns its address.
 */
function stageWinogradInput(
  engine: WasmEngine,
  x: Float32Array,
  g: ConvGeometry,
  xAt: number | undefined,
  staged: number,
  padded: number,
  b: number,
  o0: number,
  TD: number,
  Hp: number,
  Wp: number,
): number {
  const plane = g.inH * g.inW * g.inC;
  const span = 2 * TD + 2;
  const from = Math.max(0, o0 - 1);
  const to = Math.min(g.inD, o0 - 1 + span);
  const start = (b * g.inD + from) * plane;
  let source = staged;
  if (xAt !== undefined) source = xAt + start * 4;
  else if (to > from) engine.f32.set(x.subarray(start, start + (to - from) * plane), staged / 4);
  engine.run(JOB_PAD, span, [
    source,
    Math.max(0, to - from),
    g.inH,
    g.inW,
    g.inC,
    padded,
    span,
    Hp,
    Wp,
    g.inC,
    from - (o0 - 1),
    1,
    1,
  ]);
  return padded;
}
