// Runs in: any process (the engine's WebSocket server and the renderer's WebSocket client). The messages of
// the WebSocket transport and their encoding. Requests `{ id, method, input }` go as JSON text; answers
// `{ id, result }` and events `{ event, payload }` go as JSON text too, unless they hold typed arrays (a
// case's voxels): then as one binary frame, so a volume crosses as raw bytes, not as base64 or a number list.
//
// Binary frame: "EMN1" | header length (uint32 LE) | header JSON (UTF-8) | padding to 8 | arrays, each
// starting at a multiple of 8. In the header each typed array is replaced by
// { "$typedArray": <constructor name>, "offset": <bytes from the first array>, "length": <elements> }.
import { EmonasError } from '../base/errors.ts';
import type { Result } from './envelope.ts';

export interface RequestMessage {
  id: number;
  method: string;
  input: unknown;
}

export type ServerMessage = { id: number; result: Result<unknown> } | { event: string; payload: unknown };

const MAGIC = [0x45, 0x4d, 0x4e, 0x31];
const ALIGN = 8;
/** Deeper than any message of the contract; checked before anything recurses into a message. */
export const MAX_NESTING = 100;

const typedArrays = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
} as const;
type TypedArrayName = keyof typeof typedArrays;
type AnyTypedArray = InstanceType<(typeof typedArrays)[TypedArrayName]>;

function typedArrayName(value: unknown): TypedArrayName | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const name = value.constructor.name;
  return Object.hasOwn(typedArrays, name) ? (name as TypedArrayName) : undefined;
}

const pad = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function encodeMessage(message: ServerMessage | RequestMessage): string | Uint8Array {
  const arrays: AnyTypedArray[] = [];
  let offset = 0;
  const header = JSON.stringify(message, (_key, value: unknown) => {
    const name = typedArrayName(value);
    if (name === undefined) return value;
    const array = value as AnyTypedArray;
    const placeholder = { $typedArray: name, offset, length: array.length };
    arrays.push(array);
    offset += pad(array.byteLength);
    return placeholder;
  });
  if (arrays.length === 0) return header;

  const headerBytes = new TextEncoder().encode(header);
  const start = pad(8 + headerBytes.length);
  const frame = new Uint8Array(start + offset);
  frame.set(MAGIC, 0);
  new DataView(frame.buffer).setUint32(4, headerBytes.length, true);
  frame.set(headerBytes, 8);
  let at = start;
  for (const array of arrays) {
    frame.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += pad(array.byteLength);
  }
  return frame;
}

function malformed(what: string): never {
  throw new EmonasError('bad_request', `A WebSocket message could not be read: ${what}.`);
}

/** Decodes a text or binary frame; anything malformed is a 'bad_request', never a crash. */
export function decodeMessage(frame: string | Uint8Array): unknown {
  if (typeof frame === 'string') return withinNesting(parseJson(frame));
  if (frame.length < 8 || MAGIC.some((b, i) => frame[i] !== b))
    malformed('it is binary but not an Emonas frame');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > frame.length) malformed('its header is longer than the frame');
  const header = new TextDecoder().decode(frame.subarray(8, 8 + headerLength));
  const start = pad(8 + headerLength);
  const body = frame.subarray(Math.min(start, frame.length));
  return revive(withinNesting(parseJson(header)), body);
}

/** The value itself, once an iterative walk has found it no deeper than MAX_NESTING. */
function withinNesting(value: unknown): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > MAX_NESTING) malformed(`it is nested more than ${MAX_NESTING} levels deep`);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return malformed('it is not valid JSON');
  }
}

function revive(value: unknown, body: Uint8Array): unknown {
  if (Array.isArray(value)) return value.map((v) => revive(v, body));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (typeof record.$typedArray === 'string') return typedArrayFrom(record, body);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) out[key] = revive(v, body);
  return out;
}

function typedArrayFrom(placeholder: Record<string, unknown>, body: Uint8Array): AnyTypedArray {
  const { $typedArray: name, offset, length } = placeholder;
  if (typeof name !== 'string' || !Object.hasOwn(typedArrays, name))
    malformed(`unknown array type ${String(name)}`);
  const Ctor = typedArrays[name as TypedArrayName];
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    (offset as number) < 0 ||
    (length as number) < 0
  ) {
    malformed('an array has an invalid offset or length');
  }
  const from = offset as number;
  const bytes = (length as number) * Ctor.BYTES_PER_ELEMENT;
  if (from + bytes > body.length) malformed('an array runs past the end of the frame');
  // A copy, so the array is aligned and owns its memory whatever the frame's buffer was.
  const copy = body.slice(from, from + bytes);
  return new Ctor(copy.buffer, 0, length as number);
}

/** Parses a request frame from a client, naming what is wrong with it. */
export function parseRequest(frame: string | Uint8Array): RequestMessage {
  const value = decodeMessage(frame);
  if (typeof value !== 'object' || value === null) malformed('it is not an object');
  const { id, method, input } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(id)) malformed("its 'id' is not a whole number");
  if (typeof method !== 'string') malformed("its 'method' is not text");
  return { id: id as number, method, input };
}
