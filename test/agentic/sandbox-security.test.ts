// The security battery: hostile guest code against one shared sandbox pool. For every attack:
// the host survives, the job fails with the expected reason, the next job on the same pool
// succeeds, and the host's own prototypes stay clean.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoundedExecutionError, createSandbox, type Sandbox, type SandboxFailureReason } from "../../src/agentic/index.js";

const TIMEOUT_MS = 1500;
const MEMORY_RUN_TIMEOUT_MS = 60_000;

interface Attack {
  readonly name: string;
  readonly code: string;
  readonly reason: SandboxFailureReason;
  readonly input?: unknown;
  /** A longer budget, so that the memory limit (not the clock) stops a memory bomb. */
  readonly slow?: boolean;
  /** Text the failure message must contain. */
  readonly message?: RegExp;
}

const PROTOTYPES: Record<string, object> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  Promise: Promise.prototype,
  String: String.prototype,
  Error: Error.prototype,
  RegExp: RegExp.prototype,
  Map: Map.prototype,
};

function prototypeSnapshot(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, proto] of Object.entries(PROTOTYPES)) {
    out[name] = Reflect.ownKeys(proto).map(String).sort();
  }
  return out;
}

const attacks: Attack[] = [
  // ── constructor chains ────────────────────────────────────────────────────────────────────
  {
    name: "function constructor chain",
    code: `export default () => (function () {}).constructor("return process")().pid;`,
    reason: "runtime-error",
    message: /not a valid constructor/,
  },
  {
    name: "object constructor.constructor chain",
    code: `export default () => ({}).constructor.constructor("return process")().pid;`,
    reason: "runtime-error",
    message: /not a valid constructor/,
  },
  {
    name: "async function constructor",
    code: `export default async () => (async function () {}).constructor("return process")();`,
    reason: "runtime-error",
  },
  {
    name: "generator and async generator constructors",
    code: `export default () => {
      const G = Object.getPrototypeOf(function* () {}).constructor;
      const AG = Object.getPrototypeOf(async function* () {}).constructor;
      return [G("yield process")().next().value.pid, AG("yield 1")];
    };`,
    reason: "runtime-error",
  },
  {
    name: "constructor of the input (a value made by the child)",
    code: `export default (input) => input.rows.constructor.constructor("return process")().pid;`,
    input: { rows: [1, 2, 3] },
    reason: "runtime-error",
  },
  {
    name: "constructor of an endowed host function (console.log)",
    code: `export default () => console.log.constructor("return process")().pid;`,
    reason: "runtime-error",
  },
  // ── eval, Function, import() in all spellings ─────────────────────────────────────────────
  {
    name: "direct eval",
    code: `export default () => eval("process.pid");`,
    reason: "forbidden-syntax",
    message: /eval/,
  },
  {
    name: "indirect eval (0, eval)",
    code: `export default () => (0, eval)("1 + 1");`,
    reason: "forbidden-syntax",
  },
  {
    name: "eval through a computed global name",
    code: `export default () => globalThis["ev" + "al"]("1 + 1");`,
    reason: "forbidden-syntax",
  },
  {
    name: "Function called as a function",
    code: `export default () => Function("return process")().pid;`,
    reason: "forbidden-syntax",
  },
  {
    name: "new Function through Reflect.construct",
    code: `export default () => Reflect.construct(globalThis.Function, ["return 1"])();`,
    reason: "forbidden-syntax",
  },
  {
    name: "eval attempt swallowed by try/catch still fails the job",
    code: `export default () => { try { Function("return 1"); } catch {} return 1; };`,
    reason: "forbidden-syntax",
  },
  {
    name: "a nested Compartment",
    code: `export default () => new Compartment().evaluate("1 + 1");`,
    reason: "forbidden-syntax",
  },
  {
    name: "dynamic import of a literal built-in",
    code: `export default async () => (await import("fs")).readFileSync("/etc/passwd", "utf8");`,
    reason: "forbidden-import",
  },
  {
    name: "dynamic import of a computed specifier",
    code: `export default async (input) => import(input.name);`,
    input: { name: "fs" },
    reason: "forbidden-syntax",
    message: /import/,
  },
  {
    name: "import( hidden in a string",
    code: `export default () => "import(" + "'fs')";`,
    reason: "forbidden-syntax",
  },
  {
    name: "static import of node:child_process",
    code: `import { execSync } from "node:child_process"; export default () => execSync("id").toString();`,
    reason: "forbidden-import",
  },
  {
    name: "re-export from fs",
    code: `export { readFileSync } from "fs"; export default () => 1;`,
    reason: "forbidden-import",
  },
  {
    name: "relative import",
    code: `import x from "../../package.json"; export default () => x;`,
    reason: "forbidden-import",
  },
  // ── process, require, module ──────────────────────────────────────────────────────────────
  {
    name: "require of a built-in",
    code: `const fs = require("fs"); export default () => fs.readdirSync("/");`,
    reason: "forbidden-import",
  },
  {
    name: "require through an alias (seen only at run time)",
    code: `export default (input) => { const r = require; return r(input.m); };`,
    input: { m: "child_process" },
    reason: "forbidden-import",
  },
  {
    name: "module.constructor._load",
    code: `export default () => module.constructor._load("fs");`,
    reason: "runtime-error",
  },
  {
    name: "process global",
    code: `export default () => process.exit(1);`,
    reason: "runtime-error",
  },
  {
    name: "caller / callee walking",
    code: `export default function f() { return f.caller ?? arguments.callee; }`,
    reason: "runtime-error",
  },
  // ── error stacks ──────────────────────────────────────────────────────────────────────────
  {
    name: "Error.prepareStackTrace CallSite getThis/getFunction",
    code: `export default () => {
      let sites = [];
      Error.prepareStackTrace = (_e, s) => { sites = s; return "x"; };
      const e = new Error("probe");
      void e.stack;
      const leaked = sites.map((s) => s.getFunction() ?? s.getThis()).find(Boolean);
      return leaked.constructor("return process")().pid;
    };`,
    reason: "runtime-error",
  },
  {
    name: "Error.captureStackTrace on an object",
    code: `export default () => {
      const o = {};
      Error.captureStackTrace(o);
      const s = o.stack;
      if (typeof s !== "string" || !s.includes("/")) throw new Error("no host paths: " + typeof s);
      return s;
    };`,
    reason: "runtime-error",
    message: /no host paths/,
  },
  // ── Proxy traps ───────────────────────────────────────────────────────────────────────────
  {
    name: "returning a Proxy whose traps never return",
    code: `export default () => new Proxy({}, { ownKeys() { for (;;) {} }, get() { for (;;) {} }, getPrototypeOf() { for (;;) {} } });`,
    reason: "non-serialisable-result",
    message: /Proxy/,
  },
  {
    name: "throwing a Proxy whose traps never return",
    code: `export default () => { throw new Proxy(new Error("x"), { get() { for (;;) {} }, getPrototypeOf() { for (;;) {} }, getOwnPropertyDescriptor() { for (;;) {} } }); };`,
    reason: "runtime-error",
    message: /Proxy was thrown/,
  },
  {
    name: "logging a Proxy with looping traps",
    code: `export default () => { console.log(new Proxy({}, { ownKeys() { for (;;) {} } })); return process.pid; };`,
    reason: "runtime-error",
  },
  // ── promises: species and thenables ───────────────────────────────────────────────────────
  {
    name: "thenable that never settles",
    code: `export default () => ({ then() {} });`,
    reason: "timeout",
  },
  {
    name: "thenable whose then getter throws",
    code: `export default () => ({ get then() { throw new Error("trap"); } });`,
    reason: "runtime-error",
    message: /trap/,
  },
  {
    name: "thenable resolving to a Proxy",
    code: `export default () => ({ then(resolve) { resolve(new Proxy({}, {})); } });`,
    reason: "non-serialisable-result",
  },
  {
    name: "Promise subclass with a hostile species",
    code: `export default async () => {
      let stolen;
      class P extends Promise {
        static get [Symbol.species]() {
          return function (executor) { executor((v) => { stolen = v; }, () => {}); };
        }
      }
      await P.resolve(1).then((x) => x);
      return stolen.constructor("return process")().pid;
    };`,
    reason: "runtime-error",
  },
  {
    name: "self-resolving promise chain",
    code: `export default () => { const t = { then(r) { r(t); } }; return t; };`,
    reason: "timeout",
  },
  // ── inspect hooks ─────────────────────────────────────────────────────────────────────────
  {
    name: "Symbol.for inspect hook in console.log (would hand out util.inspect)",
    code: `export default () => {
      let inspect;
      const o = { [Symbol.for("nodejs.util.inspect.custom")](_d, _o, i) { inspect = i; return "x"; } };
      console.log(o);
      return inspect.constructor("return process")().pid;
    };`,
    reason: "runtime-error",
  },
  {
    name: "inspect hook that never returns, on a thrown error",
    code: `export default () => {
      const e = new Error("hooked");
      e[Symbol.for("nodejs.util.inspect.custom")] = () => { for (;;) {} };
      throw e;
    };`,
    reason: "runtime-error",
    message: /hooked/,
  },
  // ── newer intrinsics ─────────────────────────────────────────────────────────────────────
  {
    name: "SuppressedError",
    code: `export default () => { const e = new SuppressedError(new Error("a"), new Error("b"), "s"); return e.constructor.constructor("return process")(); };`,
    reason: "runtime-error",
  },
  {
    name: "WebAssembly",
    code: `export default async () => {
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      const m = await WebAssembly.instantiate(bytes);
      return typeof m;
    };`,
    reason: "runtime-error",
  },
  {
    name: "SharedArrayBuffer and Atomics.wait",
    code: `export default () => { const sab = new SharedArrayBuffer(16); Atomics.wait(new Int32Array(sab), 0, 0); };`,
    reason: "runtime-error",
  },
  // ── species, getters, generators ─────────────────────────────────────────────────────────
  {
    name: "Array species returning a trapping Proxy",
    code: `export default () => {
      class A extends Array {
        static get [Symbol.species]() { return function () { return new Proxy([], { get() { for (;;) {} } }); }; }
      }
      return A.from([1, 2, 3]).map((x) => x);
    };`,
    reason: "non-serialisable-result",
  },
  {
    name: "__lookupGetter__ of __proto__ to reach Function.prototype",
    code: `export default () => {
      const getProto = ({}).__lookupGetter__("__proto__");
      const FP = getProto.call(() => 1);
      return FP.constructor("return process")().pid;
    };`,
    reason: "runtime-error",
  },
  {
    name: "__defineGetter__ on Object.prototype",
    code: `export default () => { ({}).__defineGetter__.call(Object.prototype, "polluted", () => 1); return 1; };`,
    reason: "runtime-error",
  },
  {
    name: "async generator yield* and %AsyncIteratorPrototype% tampering",
    code: `export default async () => {
      async function* g() { yield* [1, 2, 3]; }
      const it = g();
      for await (const _ of it) { /* drain */ }
      const AIP = Object.getPrototypeOf(Object.getPrototypeOf(Object.getPrototypeOf(it)));
      AIP[Symbol.asyncIterator] = function () { return process; };
      return 1;
    };`,
    reason: "runtime-error",
  },
  // ── prototype pollution ───────────────────────────────────────────────────────────────────
  {
    name: "Object.prototype assignment",
    code: `export default () => { Object.prototype.polluted = true; return 1; };`,
    reason: "runtime-error",
  },
  {
    name: "Array.prototype method replacement",
    code: `export default () => { Array.prototype.push = function () { return 0; }; return 1; };`,
    reason: "runtime-error",
  },
  {
    name: "pollution through the input's __proto__",
    code: `export default (input) => { input.__proto__.polluted = 1; return 1; };`,
    input: { a: 1 },
    reason: "runtime-error",
  },
  // ── clocks ────────────────────────────────────────────────────────────────────────────────
  {
    name: "timing via Date.now",
    code: `export default () => { const t0 = Date.now(); for (let i = 0; i < 1e5; i++); return Date.now() - t0; };`,
    reason: "runtime-error",
    message: /Date/,
  },
  {
    name: "timing via new Date() and performance",
    code: `export default () => [new Date().getTime(), performance.now()];`,
    reason: "runtime-error",
  },
  // ── runaway code ──────────────────────────────────────────────────────────────────────────
  {
    name: "synchronous infinite loop",
    code: `export default () => { for (;;) {} };`,
    reason: "timeout",
  },
  {
    name: "asynchronous infinite loop",
    code: `export default async () => { for (;;) { await null; } };`,
    reason: "timeout",
  },
  {
    name: "microtask flood left running after returning",
    code: `export default () => { const f = () => { Promise.resolve().then(f); }; f(); return 1; };`,
    reason: "timeout",
  },
  {
    name: "catastrophic regular expression backtracking",
    code: `export default () => /^(a+)+$/.test("a".repeat(40) + "!");`,
    reason: "timeout",
  },
  {
    name: "deep recursion",
    code: `export default () => { const f = (n) => f(n + 1) + 1; return f(0); };`,
    reason: "runtime-error",
    message: /call stack/,
  },
  // ── memory ────────────────────────────────────────────────────────────────────────────────
  {
    name: "memory bomb: many small objects",
    code: `export default () => { const keep = []; for (;;) keep.push({ i: keep.length, s: [keep.length] }); };`,
    reason: "memory",
    slow: true,
  },
  {
    name: "memory bomb: one huge array",
    code: `export default () => new Array(5e8).fill(1.5).length;`,
    reason: "memory",
    slow: true,
  },
  {
    name: "memory bomb: ArrayBuffers (off the V8 heap)",
    code: `export default () => { const keep = []; for (;;) keep.push(new Uint8Array(64 * 1024 * 1024).fill(1)); };`,
    reason: "memory",
    slow: true,
  },
  {
    name: "memory bomb: one giant typed array",
    code: `export default () => new Float64Array(2 ** 31).length;`,
    reason: "memory",
    slow: true,
  },
  {
    name: "huge string by doubling",
    code: `export default () => { let s = "x"; for (let i = 0; i < 40; i++) s += s; return s.length; };`,
    reason: "memory",
  },
  {
    name: "huge string by repeat",
    code: `export default () => "x".repeat(2 ** 30).length;`,
    reason: "memory",
  },
  // ── results ───────────────────────────────────────────────────────────────────────────────
  {
    name: "result with a looping toJSON",
    code: `export default () => ({ value: 1, toJSON() { for (;;) {} } });`,
    reason: "non-serialisable-result",
  },
  {
    name: "result with a getter that never returns",
    code: `export default () => ({ get value() { for (;;) {} } });`,
    reason: "non-serialisable-result",
    message: /getter/,
  },
  {
    name: "cyclic result",
    code: `export default () => { const a = { b: {} }; a.b.a = a; return a; };`,
    reason: "non-serialisable-result",
    message: /cycle/,
  },
  {
    name: "result that is a Map",
    code: `export default () => new Map([[1, 2]]);`,
    reason: "non-serialisable-result",
  },
  {
    name: "exponentially shared result (a DAG of 2^60 leaves)",
    code: `export default () => { let a = [1]; for (let i = 0; i < 60; i++) a = [a, a]; return a; };`,
    reason: "output-too-large",
  },
  {
    name: "oversized string result",
    code: `export default () => "x".repeat(300_000);`,
    reason: "output-too-large",
  },
  {
    name: "sparse array with a huge length",
    code: `export default () => { const a = []; a.length = 2 ** 32 - 1; return a; };`,
    reason: "output-too-large",
  },
  {
    name: "console flood",
    code: `export default () => { for (let i = 0; i < 1e6; i++) console.log("y".repeat(100)); return 1; };`,
    reason: "output-too-large",
  },
  // ── odd throws ────────────────────────────────────────────────────────────────────────────
  {
    name: "thrown error whose message getter never returns",
    code: `export default () => { const e = new Error(); Object.defineProperty(e, "message", { get() { for (;;) {} } }); throw e; };`,
    reason: "runtime-error",
  },
  {
    name: "thrown object whose toString never returns",
    code: `export default () => { throw { toString() { for (;;) {} } }; };`,
    reason: "runtime-error",
  },
  {
    name: "unhandled rejection left behind",
    code: `export default () => { Promise.reject(new Error("left behind")); return process.pid; };`,
    reason: "runtime-error",
  },
  {
    name: "lockdown and harden misuse",
    code: `export default () => { lockdown(); return 1; };`,
    reason: "runtime-error",
  },
];

let sandbox: Sandbox;
let before: Record<string, string[]>;

beforeAll(async () => {
  before = prototypeSnapshot();
  sandbox = createSandbox({ timeoutMs: TIMEOUT_MS, memoryMb: 64, maxOutputBytes: 256 * 1024 });
  await sandbox.ready();
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
});

async function healthy(): Promise<void> {
  const ok = await sandbox.run<number>(`export default (input: { n: number }) => input.n + 1;`, { n: 41 });
  expect(ok.value).toBe(42);
}

describe("sandbox security battery", () => {
  it("has at least 40 attacks", () => {
    expect(attacks.length).toBeGreaterThanOrEqual(40);
    expect(new Set(attacks.map((a) => a.name)).size).toBe(attacks.length);
  });

  it.each(attacks)("$name → $reason", async (attack) => {
    const outcome = await sandbox
      .run(attack.code, attack.input ?? null, attack.slow ? { timeoutMs: MEMORY_RUN_TIMEOUT_MS } : {})
      .then(
        (r) => ({ escaped: r }),
        (e: unknown) => ({ error: e }),
      );
    expect(outcome).not.toHaveProperty("escaped");
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(BoundedExecutionError);
    const bounded = error as BoundedExecutionError;
    expect(bounded.code).toBe("E_SANDBOX");
    expect({ reason: bounded.reason, message: bounded.message }).toMatchObject({ reason: attack.reason });
    if (attack.message) expect(bounded.message).toMatch(attack.message);
    // The host survived and its prototypes are untouched.
    expect(prototypeSnapshot()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The next job on the same pool succeeds.
    await healthy();
  }, 120_000);

  it("a __proto__ key in a result stays an own property and pollutes nothing on the host", async () => {
    const r = await sandbox.run<Record<string, unknown>>(
      `export default () => JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}');`,
      null,
    );
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(r.value, "__proto__")).toBe(true);
    expect(r.value.a).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prototypeSnapshot()).toEqual(before);
  });

  it("the host never locks itself down", () => {
    expect(Object.isFrozen(Object.prototype)).toBe(false);
    expect((globalThis as Record<string, unknown>).lockdown).toBeUndefined();
    expect((globalThis as Record<string, unknown>).harden).toBeUndefined();
  });
});
