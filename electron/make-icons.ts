// Runs in: a plain Node process (npm run icons). Draws the app icon (a Pareto front of five networks on a
// blue tile) and writes every format the installers need into resources/icons/: PNGs for Linux, icon.ico
// for Windows and icon.icns for macOS, the last two holding PNG images as both formats allow; and the
// renderer's favicon.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

type Rgba = [number, number, number, number];

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Signed distance from (x, y) to a rounded square of half-size h and corner radius r, centred at 0. */
function roundedSquare(x: number, y: number, h: number, r: number): number {
  const qx = Math.abs(x) - h + r;
  const qy = Math.abs(y) - h + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/** Distance from (x, y) to the segment a-b. */
function segment(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = clamp01(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy));
  return Math.hypot(x - ax - t * dx, y - ay - t * dy);
}

/** The front of a minimisation: error falls as size grows, bowed towards the origin (y grows downwards). */
const FRONT: [number, number][] = [0, 0.25, 0.5, 0.75, 1].map((t) => {
  const x = 0.3 + 0.46 * t;
  const up = 0.28 + 0.44 * (1 - t) ** 2.2;
  return [x, 1 - up];
});

function over(base: Rgba, color: [number, number, number], alpha: number): Rgba {
  const a = clamp01(alpha);
  return [
    base[0] * (1 - a) + color[0] * a,
    base[1] * (1 - a) + color[1] * a,
    base[2] * (1 - a) + color[2] * a,
    base[3],
  ];
}

/** The colour at pixel centre (px, py) of a size x size icon. */
function shade(px: number, py: number, size: number): Rgba {
  const u = (px + 0.5) / size;
  const v = (py + 0.5) / size;
  const aa = 1.2 / size;
  const tile = roundedSquare(u - 0.5, v - 0.5, 0.44, 0.1);
  const coverage = clamp01(0.5 - tile / aa);
  if (coverage === 0) return [0, 0, 0, 0];
  const top: [number, number, number] = [40, 120, 240];
  const bottom: [number, number, number] = [12, 50, 130];
  let c: Rgba = [
    top[0] + (bottom[0] - top[0]) * v,
    top[1] + (bottom[1] - top[1]) * v,
    top[2] + (bottom[2] - top[2]) * v,
    coverage,
  ];
  // Axes, faint.
  const axes = Math.min(segment(u, v, 0.2, 0.2, 0.2, 0.8), segment(u, v, 0.2, 0.8, 0.8, 0.8));
  c = over(c, [200, 220, 255], 0.45 * clamp01(0.5 - (axes - 0.008) / aa));
  // The front line and its points; the knee point in orange.
  let line = Infinity;
  for (let i = 1; i < FRONT.length; i++) {
    const [ax, ay] = FRONT[i - 1] as [number, number];
    const [bx, by] = FRONT[i] as [number, number];
    line = Math.min(line, segment(u, v, ax, ay, bx, by));
  }
  c = over(c, [255, 255, 255], clamp01(0.5 - (line - 0.012) / aa));
  FRONT.forEach(([x, y], i) => {
    const d = Math.hypot(u - x, v - y) - 0.045;
    c = over(c, i === 2 ? [255, 160, 40] : [255, 255, 255], clamp01(0.5 - d / aa));
  });
  return c;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function renderPng(size: number): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = shade(x, y, size);
      const at = y * (size * 4 + 1) + 1 + x * 4;
      raw[at] = Math.round(r);
      raw[at + 1] = Math.round(g);
      raw[at + 2] = Math.round(b);
      raw[at + 3] = Math.round(a * 255);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** Windows icon: a directory of PNG images (supported since Windows Vista). */
export function ico(images: Map<number, Buffer>): Buffer {
  const sizes = [...images.keys()];
  const header = Buffer.alloc(6 + 16 * sizes.length);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(sizes.length, 4);
  let offset = header.length;
  sizes.forEach((size, i) => {
    const png = images.get(size) as Buffer;
    const at = 6 + 16 * i;
    header[at] = size >= 256 ? 0 : size;
    header[at + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, at + 4);
    header.writeUInt16LE(32, at + 6);
    header.writeUInt32LE(png.length, at + 8);
    header.writeUInt32LE(offset, at + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...sizes.map((s) => images.get(s) as Buffer)]);
}

/** macOS icon: PNG entries keyed by their OSType (ic07 128, ic08 256, ic09 512, ic10 1024 px). */
export function icns(images: Map<number, Buffer>): Buffer {
  const types: Record<number, string> = { 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
  const entries = [...images].map(([size, png]) => {
    const head = Buffer.alloc(8);
    head.write(types[size] as string, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL('../resources/icons/', import.meta.url));
  mkdirSync(out, { recursive: true });
  const pngs = new Map([16, 32, 48, 64, 128, 256, 512, 1024].map((s) => [s, renderPng(s)] as const));
  const pick = (sizes: number[]) => new Map(sizes.map((s) => [s, pngs.get(s) as Buffer]));
  writeFileSync(`${out}icon.png`, pngs.get(1024) as Buffer);
  writeFileSync(`${out}icon.ico`, ico(pick([16, 32, 48, 64, 128, 256])));
  writeFileSync(`${out}icon.icns`, icns(pick([128, 256, 512, 1024])));
  const publicFolder = fileURLToPath(new URL('../renderer/public/', import.meta.url));
  mkdirSync(publicFolder, { recursive: true });
  writeFileSync(`${publicFolder}favicon.png`, pngs.get(64) as Buffer);
  process.stdout.write(`wrote icon.png, icon.ico and icon.icns to ${out}, favicon.png to ${publicFolder}\n`);
}
