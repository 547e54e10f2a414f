import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, maskedCrc32c } from '../../src/core/crc32c.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('crc32c matches the standard check values (RFC 3720 B.4)', () => {
  assert.equal(crc32c(ascii('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c continues a running CRC from a seed', () => {
  const whole = ascii('hello, checkpoint');
  assert.equal(crc32c(whole.subarray(7), crc32c(whole.subarray(0, 7))), crc32c(whole));
});

test('maskedCrc32c applies the TFRecord mask', () => {
  const crc = crc32c(ascii('abc'));
  const expected = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;
  assert.equal(maskedCrc32c(ascii('abc')), expected);
});
