// Runs in: the process that trains networks. A best-fit allocator with coalescing over the WebAssembly
// memory: tensors of the fast CPU backend and the kernels' working memory live in it, so kernels read and
// write them in place and freed blocks are reused instead of asking the system for fresh pages each step.

const ALIGN = 64;
/** Kernels may read a few floats past a block's end (rounded-up tiles); every block keeps this spare. */
const SLACK = 64;

interface FreeBlock {
  start: number;
  size: number;
}

export class Heap {
  private top: number;
  private highWater: number;
  private inUse = 0;
  /** Sorted by start; never two adjacent blocks (they are merged). */
  private readonly free: FreeBlock[] = [];
  private readonly used = new Map<number, number>();

  /**
   * Hands out [base, limit). `grow(end)` must make the memory at least `end` bytes long, returning false if
   * it cannot.
   */
  constructor(
    base: number,
    readonly limit: number,
    private readonly grow: (end: number) => boolean,
  ) {
    this.top = base;
    this.highWater = base;
  }

  /** Start of a block of at least `bytes`, or undefined when the limit (or the machine) has no room. */
  alloc(bytes: number): number | undefined {
    const size = Math.ceil((bytes + SLACK) / ALIGN) * ALIGN;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i] as FreeBlock;
      if (block.size >= size && (best < 0 || block.size < (this.free[best] as FreeBlock).size)) best = i;
    }
    let start: number;
    if (best >= 0) {
      const block = this.free[best] as FreeBlock;
      start = block.start;
      if (block.size - size >= ALIGN) {
        block.start += size;
        block.size -= size;
      } else {
        this.free.splice(best, 1);
        this.used.set(start, block.size);
        this.inUse += block.size;
        return start;
      }
    } else {
      // Extend the top, absorbing a free block that ends there.
      const last = this.free[this.free.length - 1];
      const from = last !== undefined && last.start + last.size === this.top ? last.start : this.top;
      const end = from + size;
      if (end > this.limit || !this.grow(end)) return undefined;
      if (from !== this.top) this.free.pop();
      start = from;
      this.top = end;
      this.highWater = Math.max(this.highWater, end);
    }
    this.used.set(start, size);
    this.inUse += size;
    return start;
  }

  /** Returns a block from alloc; anything else is ignored. */
  release(start: number): void {
    const size = this.used.get(start);
    if (size === undefined) return;
    this.used.delete(start);
    this.inUse -= size;
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.free[mid] as FreeBlock).start < start) lo = mid + 1;
      else hi = mid;
    }
    let block: FreeBlock = { start, size };
    const prev = this.free[lo - 1];
    const next = this.free[lo];
    if (prev !== undefined && prev.start + prev.size === start) {
      prev.size += size;
      block = prev;
      lo -= 1;
    } else {
      this.free.splice(lo, 0, block);
    }
    if (next !== undefined && block.start + block.size === next.start) {
      block.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    if (block.start + block.size === this.top) {
      this.top = block.start;
      this.free.splice(lo, 1);
    }
  }

  /** Whether `start` is the start of a live block. */
  owns(start: number): boolean {
    return this.used.has(start);
  }

  /** The largest block alloc could still return. */
  largestAvailable(): number {
    let largest = 0;
    for (const block of this.free) largest = Math.max(largest, block.size);
    const last = this.free[this.free.length - 1];
    const tail = last !== undefined && last.start + last.size === this.top ? last.size : 0;
    return Math.max(0, Math.max(largest, this.limit - this.top + tail) - SLACK - ALIGN);
  }

  get bytesInUse(): number {
    return this.inUse;
  }

  /** The highest address ever handed out: the memory the process has committed for the heap. */
  get peakBytes(): number {
    return this.highWater;
  }

  get blocksInUse(): number {
    return this.used.size;
  }
}
