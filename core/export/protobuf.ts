// Runs in: the engine. The few protocol-buffer wire encodings an ONNX file needs (varints, length-delimited
// strings, bytes and sub-messages, 32-bit floats), so the export writes ONNX without a protobuf library.

const encoder = new TextEncoder();

/** One message under construction: fields are appended in call order, as protobuf allows. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];

  /** A varint field (int32, int64, enum) of a non-negative whole number. */
  int(field: number, value: number): this {
    this.tag(field, 0);
    this.parts.push(varint(value));
    return this;
  }

  /** A repeated varint field, one entry per value (the unpacked form every parser reads). */
  ints(field: number, values: readonly number[]): this {
    for (const value of values) this.int(field, value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.parts.push(bytes);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.parts.push(varint(value.byteLength), value);
    return this;
  }

  message(field: number, value: ProtoMessage): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.byteLength, 0));
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.parts.push(varint(field * 8 + wireType));
  }
}

function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`A protobuf varint here must be a whole number from 0 up, not ${value}.`);
  }
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}
