// Typed artifact declarations: a file name plus a codec. Writing a value of another type than
// the declaration's is a type error; the codec turns values into bytes and back.
import { ArtifactError } from "../errors.js";

export interface Codec<T> {
  /** A short name recorded in metadata ("json", "text", "bytes", or your own). */
  readonly name?: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export interface Artifact<T = unknown> {
  readonly kind: "artifact";
  /** The file name, extension included ("model.json"). */
  readonly name: string;
  readonly codec: Codec<T>;
  /** Phantom: carries T for inference; never set at run time. */
  readonly __type?: () => T;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** JSON codec (the default). Refuses values JSON cannot represent faithfully. */
export function jsonCodec<T>(): Codec<T> {
  return Object.freeze({
    name: "json",
    encode(value: T): Uint8Array {
      const text = JSON.stringify(value, (key, v: unknown) => {
        const at = key === "" ? "" : ` (at key ${JSON.stringify(key)})`;
        if (typeof v === "bigint") throw new TypeError(`a bigint${at} cannot be written as JSON; convert it to a string or number`);
        if (typeof v === "function") throw new TypeError(`a function${at} cannot be written as JSON`);
        if (typeof v === "symbol") throw new TypeError(`a symbol${at} cannot be written as JSON`);
        if (typeof v === "number" && !Number.isFinite(v)) throw new TypeError(`${v}${at} cannot be written as JSON`);
        return v;
      });
      if (text === undefined) throw new TypeError("undefined cannot be written as JSON");
      return utf8.encode(text);
    },
    decode(bytes: Uint8Array): T {
      return JSON.parse(fromUtf8.decode(bytes)) as T;
    },
  });
}

export const textCodec: Codec<string> = Object.freeze({
  name: "text",
  encode: (value: string) => utf8.encode(value),
  decode: (bytes: Uint8Array) => fromUtf8.decode(bytes),
});

export const bytesCodec: Codec<Uint8Array> = Object.freeze({
  name: "bytes",
  encode: (value: Uint8Array) => value,
  decode: (bytes: Uint8Array) => bytes,
});

export const codecs = Object.freeze({ json: jsonCodec, text: textCodec, bytes: bytesCodec });

/** A name is safe when it is one plain path segment: no separators, no `..`, no control chars. */
export function unsafeSegmentReason(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name === "." || name === "..") return `"${name}" refers to a directory`;
  if (/[/\\]/.test(name)) return "it contains a path separator";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f<>:"|?*]/.test(name)) return "it contains a character that is not portable in file names";
  if (name.length > 200) return "it is longer than 200 characters";
  return undefined;
}

export function artifact<T>(name: string, options?: { codec?: Codec<T> }): Artifact<T> {
  if (typeof name !== "string") throw new ArtifactError(String(name), `An artifact name must be a string, got ${typeof name}.`);
  const why = unsafeSegmentReason(name);
  if (why !== undefined) {
    throw new ArtifactError(
      name,
      `Artifact name "${name}" is not a safe file name: ${why}. Use a plain file name such as "model.json".`,
    );
  }
  const codec = options?.codec;
  if (codec !== undefined && (typeof codec?.encode !== "function" || typeof codec?.decode !== "function")) {
    throw new ArtifactError(name, `The codec of artifact "${name}" must have encode(value) and decode(bytes) functions.`);
  }
  return Object.freeze({ kind: "artifact", name, codec: codec ?? jsonCodec<T>() });
}
