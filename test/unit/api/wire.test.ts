import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { decodeMessage, encodeMessage, parseRequest } from '../../../core/api/wire.ts';

describe('wire', () => {
  it('sends plain messages as JSON text', () => {
    const frame = encodeMessage({ id: 3, result: { ok: true, value: { a: [1, 'x', null] } } });
    expect(typeof frame).toBe('string');
    expect(decodeMessage(frame)).toEqual({ id: 3, result: { ok: true, value: { a: [1, 'x', null] } } });
  });

  it('sends typed arrays of every kind as one binary frame and restores them exactly', () => {
    const value = {
      image: { data: Float32Array.from([1.5, -2, 3e-8]), shape: [3, 1, 1] },
      label: Uint8Array.from([0, 1, 2, 255, 7]),
      more: [Int16Array.from([-3, 4]), Float64Array.from([Math.PI]), Uint16Array.from([65535])],
      others: [Int8Array.from([-128]), Uint32Array.from([4294967295]), Int32Array.from([-2147483648])],
      // A view into a larger buffer at an odd offset must send only its own bytes.
      view: new Uint8Array(new ArrayBuffer(16), 3, 5).fill(9),
    };
    const frame = encodeMessage({ id: 1, result: { ok: true, value } });
    expect(frame).toBeInstanceOf(Uint8Array);
    const decoded = decodeMessage(frame) as { result: { value: typeof value } };
    const v = decoded.result.value;
    expect(v.image.data).toBeInstanceOf(Float32Array);
    expect([...v.image.data]).toEqual([...value.image.data]);
    expect(v.image.shape).toEqual([3, 1, 1]);
    expect([...v.label]).toEqual([0, 1, 2, 255, 7]);
    expect(v.more[0]).toBeInstanceOf(Int16Array);
    expect([...(v.more[0] as Int16Array)]).toEqual([-3, 4]);
    expect([...(v.more[1] as Float64Array)]).toEqual([Math.PI]);
    expect([...(v.more[2] as Uint16Array)]).toEqual([65535]);
    expect([...(v.others[0] as Int8Array)]).toEqual([-128]);
    expect([...(v.others[1] as Uint32Array)]).toEqual([4294967295]);
    expect([...(v.others[2] as Int32Array)]).toEqual([-2147483648]);
    expect([...v.view]).toEqual([9, 9, 9, 9, 9]);
  });

  it('keeps a volume compact: the frame is the voxel bytes plus a small header', () => {
    const data = new Float32Array(35 * 50 * 35);
    const frame = encodeMessage({ event: 'x', payload: { data } }) as Uint8Array;
    expect(frame.byteLength - data.byteLength).toBeLessThan(200);
  });

  it.each([
    ['not JSON', '{"id":'],
    ['binary junk', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])],
    ['a header longer than the frame', Uint8Array.from([0x45, 0x4d, 0x4e, 0x31, 255, 0, 0, 0, 123])],
  ])('refuses %s with bad_request', (_what, frame) => {
    expect(() => decodeMessage(frame)).toThrow(EmonasError);
    try {
      decodeMessage(frame);
    } catch (err) {
      expect((err as EmonasError).code).toBe('bad_request');
    }
  });

  it('refuses an array that runs past the end of the frame, and an unknown array type', () => {
    const good = encodeMessage({ id: 1, result: { ok: true, value: new Float32Array(4) } }) as Uint8Array;
    expect(() => decodeMessage(good.subarray(0, good.length - 4))).toThrow(/past the end of the frame/);
    const text = new TextDecoder().decode(good);
    const tampered = new TextEncoder().encode(text.replace('Float32Array', 'Float32Arrax'));
    expect(() => decodeMessage(tampered)).toThrow(/unknown array type/);
  });

  it('parses requests and names what is wrong with a bad one', () => {
    expect(parseRequest('{"id":4,"method":"dataset.list","input":{}}')).toEqual({
      id: 4,
      method: 'dataset.list',
      input: {},
    });
    expect(() => parseRequest('{"id":"4","method":"x"}')).toThrow(/'id' is not a whole number/);
    expect(() => parseRequest('{"id":4,"method":5}')).toThrow(/'method' is not text/);
    expect(() => parseRequest('[]')).toThrow(/'id'/);
    expect(() => parseRequest('null')).toThrow(/not an object/);
  });
});
