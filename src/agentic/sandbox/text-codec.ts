// Child side: pure-JS UTF-8 TextEncoder / TextDecoder for guests.
//
// SES puts the realm's TextEncoder/TextDecoder into every compartment. Node's are backed by a
// native handle whose prototype (and Node's internal error classes behind it) are shared, writable
// host objects; replacing the handle makes Node dereference a pointer the guest picks. These
// replacements hold no native state and, once hardened, share nothing writable between jobs.

const REPLACEMENT = 0xfffd;

function encodeUtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = REPLACEMENT; // a lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function bytesOf(input: unknown): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new TypeError("TextDecoder.decode: input must be an ArrayBuffer or a view of one");
}

/** Decodes UTF-8; returns the text and how many trailing bytes form an incomplete sequence. */
function decodeUtf8(bytes: Uint8Array, fatal: boolean, final: boolean): { text: string; rest: number } {
  let text = "";
  const units: number[] = [];
  const flush = (): void => {
    text += String.fromCharCode(...units);
    units.length = 0;
  };
  const bad = (): void => {
    if (fatal) throw new TypeError("The encoded data was not valid utf-8");
    units.push(REPLACEMENT);
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need = 0;
    let cp = 0;
    let min = 0;
    if (b < 0x80) {
      units.push(b);
      i++;
      if (units.length > 4096) flush();
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, cp, min] = [1, b & 0x1f, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, cp, min] = [2, b & 0x0f, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, cp, min] = [3, b & 0x07, 0x10000];
    else {
      bad();
      i++;
      continue;
    }
    let j = 1;
    for (; j <= need && i + j < bytes.length; j++) {
      const n = bytes[i + j] as number;
      if ((n & 0xc0) !== 0x80) break;
      cp = (cp << 6) | (n & 0x3f);
    }
    if (j <= need && i + j >= bytes.length && !final) {
      flush();
      return { text, rest: bytes.length - i };
    }
    if (j <= need || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      bad();
      i += Math.max(1, j);
      continue;
    }
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += need + 1;
    if (units.length > 4096) flush();
  }
  flush();
  return { text, rest: 0 };
}

function utf8Label(label: unknown): void {
  const l = label === undefined ? "utf-8" : String(label).trim().toLowerCase();
  if (l !== "utf-8" && l !== "utf8" && l !== "unicode-1-1-utf-8") {
    throw new RangeError(`The "${l.slice(0, 40)}" encoding is not supported in the sandbox (only utf-8)`);
  }
}

export class TextEncoder {
  get encoding(): string {
    return "utf-8";
  }
  encode(input: unknown = ""): Uint8Array {
    return encodeUtf8(String(input));
  }
  encodeInto(input: unknown, dest: Uint8Array): { read: number; written: number } {
    const text = String(input);
    let read = 0;
    let written = 0;
    for (const ch of text) {
      const bytes = encodeUtf8(ch);
      if (written + bytes.length > dest.length) break;
      dest.set(bytes, written);
      written += bytes.length;
      read += ch.length;
    }
    return { read, written };
  }
}

export class TextDecoder {
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  #pending: Uint8Array = new Uint8Array(0);
  #bomSeen = false;
  constructor(label?: unknown, options?: { fatal?: unknown; ignoreBOM?: unknown }) {
    utf8Label(label);
    this.#fatal = Boolean(options?.fatal);
    this.#ignoreBOM = Boolean(options?.ignoreBOM);
  }
  get encoding(): string {
    return "utf-8";
  }
  get fatal(): boolean {
    return this.#fatal;
  }
  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }
  decode(input?: unknown, options?: { stream?: unknown }): string {
    const stream = Boolean(options?.stream);
    const fresh = bytesOf(input);
    let bytes = fresh;
    if (this.#pending.length > 0) {
      bytes = new Uint8Array(this.#pending.length + fresh.length);
      bytes.set(this.#pending, 0);
      bytes.set(fresh, this.#pending.length);
    }
    const { text, rest } = decodeUtf8(bytes, this.#fatal, !stream);
    this.#pending = rest > 0 ? bytes.slice(bytes.length - rest) : new Uint8Array(0);
    let out = text;
    if (!this.#bomSeen && out.length > 0) {
      this.#bomSeen = true;
      if (!this.#ignoreBOM && out.charCodeAt(0) === 0xfeff) out = out.slice(1);
    }
    if (!stream) this.#bomSeen = false;
    return out;
  }
}
