// Decoders for the compact seal (issuer/seal.py): its decimal digits (sanad/digits.py) and
// the CBOR inside them (RFC 8949). Only what a seal uses is accepted, only in the
// deterministic encoding: unsigned and negative integers, byte and text strings, arrays,
// maps with integer keys in order, tags, true and false. Anything else (floats, indefinite
// lengths, repeated keys, bytes left over) is an error, never a guess.

export class CborError extends Error {}

const fail = (message) => {
  throw new CborError(message);
};

// Digits for a group of 0..7 bytes: the fewest that hold it; 7 bytes make a full group.
const GROUP_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];
const FULL_GROUP = 17;
const MAX_DIGITS = 12000; // a seal is ~400 digits

/** The bytes a compact seal's digits encode (7 bytes per 17 digits, big-endian). */
export function decodeDigits(text) {
  if (typeof text !== "string" || !/^[0-9]+$/.test(text) || text.length > MAX_DIGITS) fail("the seal is not digits");
  if (!GROUP_DIGITS.includes(text.length % FULL_GROUP)) {
    fail(`the seal is damaged or incomplete (${text.length} digits cannot be whole bytes)`);
  }
  const out = [];
  for (let at = 0; at < text.length; at += FULL_GROUP) {
    const group = text.slice(at, at + FULL_GROUP);
    const size = GROUP_DIGITS.indexOf(group.length);
    let value = BigInt(group);
    if (value >= 1n << BigInt(8 * size)) fail("the seal is damaged (a group of digits is too large)");
    const bytes = new Array(size);
    for (let i = size - 1; i >= 0; i -= 1) {
      bytes[i] = Number(value & 0xffn);
      value >>= 8n;
    }
    out.push(...bytes);
  }
  return Uint8Array.from(out);
}

export class CborTag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const MAX_DEPTH = 8;
// The smallest argument each long form may carry: anything less has a shorter spelling.
const LONG_FORM_MIN = [24, 256, 65536, 2 ** 32];

// Map keys in the canonical order the issuer's CBOR library writes: shorter encodings
// first, then bytewise (RFC 7049, 3.9; for one-byte keys, as all of a seal's are, the same
// as RFC 8949's bytewise order).
function keyBefore(a, b) {
  if (a.length !== b.length) return a.length < b.length;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** The one value `bytes` holds; Map for maps, Uint8Array for byte strings. */
export function decodeCbor(bytes) {
  let at = 0;
  const need = (n) => {
    if (at + n > bytes.length) fail("cut short");
  };
  const head = () => {
    need(1);
    const first = bytes[at];
    at += 1;
    const major = first >> 5;
    const info = first & 31;
    if (info < 24) return { major, info, arg: info };
    if (info > 27) fail("indefinite lengths are not accepted");
    const size = 2 ** (info - 24);
    need(size);
    let arg = 0;
    for (let i = 0; i < size; i += 1) arg = arg * 256 + bytes[at + i];
    at += size;
    if (!Number.isSafeInteger(arg)) fail("a number is too large");
    if (major !== 7 && arg < LONG_FORM_MIN[info - 24]) fail("not in deterministic encoding");
    return { major, info, arg };
  };
  const item = (depth) => {
    if (depth > MAX_DEPTH) fail("nested too deeply");
    const { major, info, arg } = head();
    switch (major) {
      case 0:
        return arg;
      case 1:
        return -1 - arg;
      case 2:
        need(arg);
        at += arg;
        return bytes.slice(at - arg, at);
      case 3:
        need(arg);
        at += arg;
        try {
          return utf8.decode(bytes.subarray(at - arg, at));
        } catch {
          return fail("text that is not UTF-8");
        }
      case 4: {
        const list = [];
        for (let i = 0; i < arg; i += 1) list.push(item(depth + 1));
        return list;
      }
      case 5: {
        const map = new Map();
        let previous = null;
        for (let i = 0; i < arg; i += 1) {
          const start = at;
          const key = item(depth + 1);
          const spelled = bytes.subarray(start, at);
          if (!Number.isInteger(key)) fail("a map key is not an integer");
          if (previous !== null && !keyBefore(previous, spelled)) fail("map keys repeated or out of order");
          previous = spelled;
          map.set(key, item(depth + 1));
        }
        return map;
      }
      case 6:
        return new CborTag(arg, item(depth + 1));
      default:
        if (info === 20) return false;
        if (info === 21) return true;
        return fail("floats and other simple values are not accepted");
    }
  };
  const value = item(0);
  if (at !== bytes.length) fail("bytes left over after the value");
  return value;
}

/** A CBOR head (major type and length) in its shortest form, for lengths below 2**32. */
export function cborHead(major, length) {
  const m = major << 5;
  if (length < 24) return [m | length];
  if (length < 256) return [m | 24, length];
  if (length < 65536) return [m | 25, length >> 8, length & 255];
  return [m | 26, (length >>> 24) & 255, (length >>> 16) & 255, (length >>> 8) & 255, length & 255];
}
