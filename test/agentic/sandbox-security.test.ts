// The security battery: hostile guest code against one shared sandbox pool. For every attack:
// the host survives, the job fails with the expected reason, the next job on the same pool
// succeeds, and the host's own prototypes stay clean.
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
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

// ── issue 13: allowed modules, state between jobs, the host gate, determinism ───────────────
// Every test here: the host survives, its intrinsics are unchanged, no marker file is written,
// and the next benign job on the same sandbox succeeds.
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const MARKER = join(tmpdir(), `crystallize-sandbox-marker-${process.pid}`);
const M = JSON.stringify(MARKER);
/** Tries, through whatever `g` turned out to be, to write the marker file. */
const writeMarker = (g: string) =>
  `try { const p = ${g} && ${g}.process; if (p) { p.mainModule?.require?.("fs").writeFileSync(${M}, "x"); p.binding?.("fs"); } } catch {}
   try { const F = ${g} && ${g}.Function; if (F) F("return process")().mainModule.require("fs").writeFileSync(${M}, "x"); } catch {}`;

let modSandbox: Sandbox;
let fresh = 0;

beforeAll(async () => {
  modSandbox = createSandbox({
    allowedImports: ["jstat", "seedrandom", "fast-check"],
    resolveFrom: REPO,
    timeoutMs: 5000,
    memoryMb: 96,
    maxOutputBytes: 256 * 1024,
  });
  await modSandbox.ready();
}, 120_000);

afterAll(async () => {
  await modSandbox?.close();
  rmSync(MARKER, { force: true });
});

/** The invariants after every issue-13 attack; the benign job's code is new each time, so the gate compiles it. */
async function stillSound(on: Sandbox): Promise<void> {
  expect(existsSync(MARKER)).toBe(false);
  expect(prototypeSnapshot()).toEqual(before);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const n = ++fresh;
  const ok = await on.run<number>(`export default (input: { n: number }) => input.n + ${n};`, { n: 1 });
  expect(ok.value).toBe(1 + n);
}

function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe("issue 13: allowed modules run inside the job's compartment", () => {
  it("jStat.extend called without a receiver does not hand out the child's real global", async () => {
    const started = modSandbox.processesStarted;
    const out = await settle(
      modSandbox.run<unknown>(
        `import { jStat } from "jstat";
         export default () => {
           const extend = jStat.extend;
           let g: any;
           try { g = extend({}); } catch (e) { return ["threw"]; }
           ${writeMarker("g")}
           return [g === undefined ? "undefined" : g === globalThis ? "the job's global" : typeof g, typeof g?.process, typeof g?.require];
         };`,
        null,
      ).then((r) => r.value),
    );
    // Strict evaluation inside the compartment: `this` is undefined (or at most the job's own global).
    expect(out).toHaveProperty("value");
    const seen = (out as { value: string[] }).value;
    expect(["threw", "undefined", "the job's global"]).toContain(seen[0]);
    expect(seen.slice(1).every((t) => t === "undefined")).toBe(true);
    expect(modSandbox.processesStarted).toBe(started);
    await stillSound(modSandbox);
  });

  it("no function of any allowed module, called unbound, returns an object with host powers", async () => {
    const r = await modSandbox.run<string[]>(
      `import { jStat } from "jstat"; import seedrandom from "seedrandom"; import fc from "fast-check";
       export default () => {
         const found: string[] = [];
         // fast-check's functions are left out (some run property checks for a long time); the
         // reachability test below covers it.
         const mods: Record<string, any> = { jStat, seedrandom, jStatFn: jStat.fn, normal: jStat.normal, fcIs: { hash: fc.hash, stringify: fc.stringify } };
         // Iterative solvers loop forever on missing arguments: not what this test is about.
         const slow = new Set(["romberg", "rungekutta", "richardson", "simpson", "hermite", "lagrange", "cubic_spline", "gauss_quadrature", "PCA", "jacobi", "gauss_jacobi", "gauss_seidel", "SOR"]);
         for (const [name, mod] of Object.entries(mods)) {
           for (const key of Object.getOwnPropertyNames(mod)) {
             if (slow.has(key)) continue;
             const f = Object.getOwnPropertyDescriptor(mod, key)?.value;
             if (typeof f !== "function") continue;
             for (const args of [[], [{}]]) {
               let r: any;
               try { r = f(...args); } catch { continue; }
               if (r && (typeof r === "object" || typeof r === "function")) {
                 let hit = false;
                 try { hit = "process" in r || "require" in r || "Buffer" in r; } catch {}
                 if (hit) found.push(name + "." + key);
                 ${writeMarker("r")}
               }
             }
           }
         }
         return found;
       };`,
      null,
      { timeoutMs: 20_000 },
    );
    expect(r.value).toEqual([]);
    await stillSound(modSandbox);
  }, 60_000);

  it("module instances are fresh per job: a global fast-check plugin is not seen by the next job", async () => {
    const plant = await modSandbox.run<boolean>(
      `import fc from "fast-check";
       export default () => { fc.configureGlobal({ seed: 7, numRuns: 3, reporter: () => {} }); return Object.keys(fc.readConfigureGlobal()).length > 0; };`,
      null,
    );
    expect(plant.value).toBe(true);
    const next = await modSandbox.run<number>(
      `import fc from "fast-check"; export default () => Object.keys(fc.readConfigureGlobal() ?? {}).length;`,
      null,
    );
    expect(next.value).toBe(0);
    await stillSound(modSandbox);
  });

  it("a module's Math, globals and timers are the job's: jstat's sampling follows the job's seed", async () => {
    const code = `import { jStat } from "jstat"; export default () => [jStat.normal.sample(0, 1), jStat.uniform.sample(0, 1)];`;
    const a = await modSandbox.run<number[]>(code, null, { seed: 11 });
    const b = await modSandbox.run<number[]>(code, null, { seed: 11 });
    const c = await modSandbox.run<number[]>(code, null, { seed: 12 });
    expect(a.value).toEqual(b.value);
    expect(c.value).not.toEqual(a.value);
    await stillSound(modSandbox);
  });
});

describe("issue 13: nothing outlives a job, nothing shared is writable", () => {
  // Module instances are the job's own (evaluated in its compartment) and not frozen; whatever
  // they can reach that is shared, they reach through these globals.
  it("every object reachable from a job's globals is frozen (shared intrinsics, codecs, their errors)", async () => {
    const r = await modSandbox.run<{ open: string[]; seen: number }>(
      `import { jStat } from "jstat"; import seedrandom from "seedrandom"; import fc from "fast-check";
       export default () => {
         const open: string[] = [];
         const seen = new Set<unknown>([globalThis]);
         const queue: Array<[unknown, string]> = [];
         const push = (v: unknown, path: string) => {
           if (v !== null && (typeof v === "object" || typeof v === "function") && !seen.has(v)) { seen.add(v); queue.push([v, path]); }
         };
         for (const k of Reflect.ownKeys(globalThis)) push(Object.getOwnPropertyDescriptor(globalThis, k)?.value, String(k));
         const own = new Set(["new TextDecoder()", "new TextEncoder()", "decode error", "label error", "encodeInto error"]);
         push(new TextDecoder(), "new TextDecoder()"); push(new TextEncoder(), "new TextEncoder()");
         // Errors the codecs throw (Node's came from its internal, writable error classes).
         try { new TextDecoder().decode(1 as any); } catch (e) { push(e, "decode error"); }
         try { new TextDecoder("no-such-label"); } catch (e) { push(e, "label error"); }
         try { new TextEncoder().encodeInto("x", 1 as any); } catch (e) { push(e, "encodeInto error"); }
         // Loaded first, so that anything a module might have added to a shared object is seen.
         void [jStat, seedrandom, fc];
         while (queue.length && seen.size < 60000) {
           const [v, path] = queue.shift()!;
           // the instances and errors are the job's own; what they reach is not
           if (!Object.isFrozen(v) && !own.has(path)) open.push(path);
           push(Object.getPrototypeOf(v), path + ".__proto__");
           for (const k of Reflect.ownKeys(v as object)) {
             const d = Object.getOwnPropertyDescriptor(v, k)!;
             push(d.value, path + "." + String(k)); push(d.get, path + ".get " + String(k)); push(d.set, path + ".set " + String(k));
           }
         }
         return { open: open.slice(0, 20), seen: seen.size };
       };`,
      null,
      { timeoutMs: 20_000 },
    );
    expect(r.value.open).toEqual([]);
    expect(r.value.seen).toBeGreaterThan(500);
    await stillSound(modSandbox);
  }, 60_000);

  it("TextDecoder and TextEncoder are pure JavaScript: no native handle, no Node error classes", async () => {
    const r = await modSandbox.run<unknown[]>(
      `export default () => {
         const d = new TextDecoder("utf-8", { fatal: true });
         const e = new TextEncoder();
         const symbols = [...Object.getOwnPropertySymbols(d), ...Object.getOwnPropertySymbols(Object.getPrototypeOf(d))];
         let errorName = "";
         try { d.decode(new Uint8Array([0xff])); } catch (err: any) { errorName = Object.getPrototypeOf(err) === TypeError.prototype ? "TypeError" : "other"; }
         return [symbols.length, new TextDecoder().decode(e.encode("a€𝄞")), errorName, e.encode("é").length];
       };`,
      null,
    );
    expect(r.value).toEqual([0, "a€𝄞", "TypeError", 2]);
    await stillSound(modSandbox);
  });

  it("replacing a TextDecoder's internals does not crash the child (no native memory to corrupt)", async () => {
    const started = sandbox.processesStarted;
    const out = await settle(
      sandbox.run<string>(
        `export default () => {
           const d: any = new TextDecoder();
           for (const o of [d, Object.getPrototypeOf(d)]) {
             for (const k of Reflect.ownKeys(o)) { try { Object.defineProperty(o, k, { value: { decode: 1, buffer: 0x41414141 } }); } catch {} }
           }
           for (const k of Object.getOwnPropertySymbols(d)) d[k] = 0x41414141;
           try { d.handle = 0x41414141; } catch {}
           return d.decode(new Uint8Array([104, 105]));
         };`,
        null,
      ).then((r) => r.value),
    );
    expect(out).toEqual({ value: "hi" });
    expect(sandbox.processesStarted).toBe(started);
    await stillSound(sandbox);
  });

  it("a guest timer left pending does not run after its job settles (the next job is not killed)", async () => {
    const started = sandbox.processesStarted;
    const first = await sandbox.run<number>(
      `export default () => { setTimeout(() => { for (;;); }, 30); setTimeout(() => { throw new Error("late"); }, 10); return 1; };`,
      null,
    );
    expect(first.value).toBe(1);
    const second = await sandbox.run<number>(
      `export default async () => { await new Promise((r) => setTimeout(r, 150)); return 2; };`,
      null,
    );
    expect(second.value).toBe(2);
    expect(sandbox.processesStarted).toBe(started);
    await stillSound(sandbox);
  });

  it("a module's timers are the job's too (fast-check's timeout), cleared when the job settles", async () => {
    const first = await modSandbox.run<number>(
      `import fc from "fast-check";
       export default () => {
         // fast-check schedules its own timer for the property's timeout; it must die with the job.
         fc.assert(fc.asyncProperty(fc.integer(), async () => { await new Promise(() => {}); }), { seed: 1, numRuns: 1, timeout: 60 }).catch(() => {});
         setTimeout(() => { for (;;); }, 40);
         return 1;
       };`,
      null,
    );
    expect(first.value).toBe(1);
    const second = await modSandbox.run<number>(`export default async () => { await new Promise((r) => setTimeout(r, 120)); return 3; };`, null);
    expect(second.value).toBe(3);
    await stillSound(modSandbox);
  });

  it("callbacks the GC or the kernel would run later are not available (FinalizationRegistry, Atomics.waitAsync)", async () => {
    const r = await sandbox.run<string[]>(
      `export default () => [typeof FinalizationRegistry, typeof (Atomics as any).waitAsync, typeof Atomics.wait];`,
      null,
    );
    expect(r.value).toEqual(["undefined", "undefined", "function"]);
    await stillSound(sandbox);
  });

  it("a typed array in a result arrives in a buffer of its own", async () => {
    const r = await sandbox.run<{ a: Uint8Array; b: Float64Array[] }>(
      `export default () => ({ a: new Uint8Array([1, 2, 3]), b: [new Float64Array([1.5])] })`,
      null,
    );
    expect([...r.value.a]).toEqual([1, 2, 3]);
    expect(r.value.a.buffer.byteLength).toBe(3);
    expect(r.value.b[0]!.buffer.byteLength).toBe(8);
    await stillSound(sandbox);
  });
});

describe("issue 13: the host gate is bounded", () => {
  it("500 KB of nested brackets is refused before esbuild, and the gate keeps working", async () => {
    const t0 = performance.now();
    const out = await settle(sandbox.run(`export default () => ${"[".repeat(500_000)}`, null));
    expect(out).toMatchObject({ error: { reason: "forbidden-syntax", message: expect.stringMatching(/nests brackets/) } });
    expect(performance.now() - t0).toBeLessThan(1000);
    await stillSound(sandbox);
  });

  it("a source with thousands of warnings costs the host little memory", async () => {
    const code = `export default (x: number) => [${Array.from({ length: 6000 }, () => "x==-0").join(",")}].length;`;
    expect(code.length).toBeGreaterThan(36_000);
    const heapBefore = process.memoryUsage().rss;
    const r = await sandbox.run<number>(code, 1);
    expect(r.value).toBe(6000);
    // Before the fix the warnings alone cost the host ~900 MiB.
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(200 * 1024 * 1024);
    await stillSound(sandbox);
  });

  it("a tiny enum program that expands to megabytes is refused", async () => {
    let code = `enum E { A = "aaaaaaaa"`;
    for (let i = 1; i <= 21; i++) code += `, B${i} = ${i === 1 ? "A" : `B${i - 1}`} + ${i === 1 ? "A" : `B${i - 1}`}`;
    code += ` }\nexport default () => E.B21.length;`;
    expect(code.length).toBeLessThan(600);
    const out = await settle(sandbox.run(code, null, { timeoutMs: 10_000 }));
    expect(out).toMatchObject({ error: { reason: "forbidden-syntax", message: expect.stringMatching(/compiled module is larger/) } });
    await stillSound(sandbox);
  });

  it("the gate's time counts inside timeoutMs: a slow-to-compile source returns near the timeout", async () => {
    for (const code of [`export default () => ${"!".repeat(200_000)}1;`, `export default () => ${"-".repeat(600 * 1024)}1;`]) {
      const t0 = performance.now();
      const out = await settle(sandbox.run(code, null, { timeoutMs: 1000 }));
      const elapsed = performance.now() - t0;
      expect(out).toHaveProperty("error");
      expect((out as { error: BoundedExecutionError }).error.reason).toMatch(/timeout|forbidden-syntax/);
      expect(elapsed).toBeLessThan(1000 + 750);
    }
    // The overrun restarted esbuild's service; new programs still compile (stillSound's job is new).
    await stillSound(sandbox);
  });
});

describe("issue 13: determinism with every allowed module", () => {
  const programs = [
    `import { jStat } from "jstat"; export default (x: number) => [jStat.normal.sample(x, 1), jStat.gamma.sample(2, 1), Math.random()];`,
    `import seedrandom from "seedrandom"; export default (x: number) => [seedrandom()(), seedrandom(String(x))(), Math.random()];`,
    `import fc from "fast-check"; export default (x: number) => fc.sample(fc.array(fc.integer(), { maxLength: 4 }), { seed: Math.floor(Math.random() * 1e9) + x, numRuns: 3 });`,
    `import fc from "fast-check"; export default () => { try { fc.assert(fc.property(fc.integer(), () => true)); return "ran"; } catch (e: any) { return String(e?.message).includes("Date") ? "no clock" : "other"; } };`,
  ];

  it("same code, input and seed give the same value (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...programs), fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 8 }), async (code, x, seed) => {
        const a = await modSandbox.run(code, x, { seed });
        const b = await modSandbox.run(code, x, { seed });
        expect(b.value).toEqual(a.value);
      }),
      { numRuns: 12, seed: 1313 },
    );
    // fast-check inside the sandbox has no clock: without an explicit seed it cannot pick one.
    expect((await modSandbox.run(programs[3]!, 0)).value).toBe("no clock");
    await stillSound(modSandbox);
  }, 120_000);
});
