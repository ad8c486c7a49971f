// Runs in: the process that trains networks. The backend object of 'emonas-cpu': tfjs's cpu backend whose
// float32 tensors live, where there is room, in the WebAssembly engine's heap, so the engine's kernels
// read and write them in place. Every cpu-backend kernel still works on them (they are ordinary
// Float32Arrays). Three rules keep the shared memory safe: a heap block belongs to exactly one tensor (a
// view into another tensor, as the cpu Slice returns, is copied); a block returns to the heap when its
// tensor is disposed; and values handed out to callers (dataSync, data) are copies, so a caller keeping
// them after dispose never sees the block reused.

import type { backend_util, DataType } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { WasmEngine } from './wasm-engine.ts';

type DataId = object;

export class FastCpuBackend extends MathBackendCPU {
  /** Heap blocks owned by a live tensor. */
  private readonly owned = new Set<number>();

  constructor(readonly engine: WasmEngine) {
    super();
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    return super.write(this.adopt(values), shape, dtype);
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    super.move(dataId, this.adopt(values), shape, dtype, refCount);
  }

  /** Values in the heap become a tensor's own block, copied unless they are an unowned block's whole start. */
  private adopt(values: backend_util.BackendValues): backend_util.BackendValues {
    if (!(values instanceof Float32Array)) return values;
    const at = this.engine.addressOf(values);
    if (at === undefined) return values;
    if (this.engine.heap.owns(at) && !this.owned.has(at)) {
      this.owned.add(at);
      return values;
    }
    const copy = this.engine.tryTensor(values.length);
    if (copy === undefined) return values.slice();
    copy.set(values);
    this.owned.add(copy.byteOffset);
    return copy;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values instanceof Float32Array && !this.data.has(dataId)) {
      const at = this.engine.addressOf(values);
      if (at !== undefined && this.owned.delete(at)) this.engine.heap.release(at);
    }
    return released;
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return values instanceof Float32Array && this.engine.addressOf(values) !== undefined
      ? values.slice()
      : values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override dispose(): void {
    for (const at of this.owned) this.engine.heap.release(at);
    this.owned.clear();
    super.dispose();
  }
}
