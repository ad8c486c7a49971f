// Runs in: the engine. Writes tensors in the safetensors format (an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data), which
// PyTorch users load with the `safetensors` package or the few lines in the exported model.py.

import type { NamedWeight } from './network-graph.ts';

export function encodeSafetensors(
  tensors: readonly NamedWeight[],
  metadata: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { key, tensor } of tensors) {
    header[key] = {
      dtype: 'F32',
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.byteLength],
    };
    offset += tensor.data.byteLength;
  }
  // Padded with spaces to a multiple of 8 bytes so the data that follows is aligned, as the format advises.
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.byteLength));
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const { tensor } of tensors) {
    for (let i = 0; i < tensor.data.length; i++) view.setFloat32(at + 4 * i, tensor.data[i] as number, true);
    at += tensor.data.byteLength;
  }
  return out;
}
