// Discovery: finds every exported experiment and graph of a program and what they are made of
// (steps, params, metrics, treatments, hypotheses, artifacts, inputs), by following the DSL's
// calls statically through consts, imports, aliases, re-exports, the builder form and project
// functions that return a step(...) call (step factories). Works on the raw TypeScript AST and
// one TypeChecker, so that the CLI and an editor plugin share it.
import { relative, sep } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { constInitializer, evaluate, identifierValue, propertyKey, skipOuter, UNKNOWN, type Bindings, type Static } from "./evaluate.js";
import { bindParameters, bound, factoryOf, factoryReturn, factoryStepName } from "./step-factories.js";

export type DslName = "step" | "source" | "pipeline" | "treatment" | "hypothesis" | "experiment" | "artifact" | "input" | "graph" | "resource";
const DSL_NAMES: ReadonlySet<string> = new Set<DslName>([
  "step", "source", "pipeline", "treatment", "hypothesis", "experiment", "artifact", "input", "graph", "resource",
]);

export interface Named {
  /** The statically known name, or undefined when it is not a literal. */
  readonly name: string | undefined;
  readonly nameNode: TS.Node;
}

/** How a project factory function made a step: `make("a")` where `make` returns step(...). */
export interface FactoryUse {
  /** The call site; it is also the step's `node`. */
  readonly call: TS.CallExpression;
  /** The factory: a function declaration, or the arrow function or function expression a const holds. */
  readonly fn: TS.FunctionLikeDeclaration;
  /** The factory's parameters at this call site. */
  readonly bindings: Bindings;
}

export interface StepInfo extends Named {
  readonly kind: "step";
  /** The step(...) call, or for a factory-made step the factory's call site. */
  readonly node: TS.Expression;
  readonly options: TS.ObjectLiteralExpression | undefined;
  readonly paramsNode: TS.Expression | undefined;
  readonly params: Static;
  readonly metrics: readonly { readonly name: string; readonly node: TS.Node }[];
  readonly metricsNode: TS.Expression | undefined;
  /** false when the metrics list could not be read statically. */
  readonly metricsKnown: boolean;
  readonly cacheable: boolean;
  readonly run: TS.Expression | undefined;
  /** Set when a project factory function made the step. */
  readonly factory?: FactoryUse;
}
export interface SourceInfo extends Named {
  readonly kind: "source";
  readonly node: TS.Expression;
  readonly fetch: TS.Expression | undefined;
}
export interface TreatmentInfo extends Named {
  readonly kind: "treatment";
  readonly node: TS.Expression;
  /** Fixed values (undefined for computed treatments or values the compiler cannot read). */
  readonly keys: readonly { readonly key: string; readonly node: TS.Node; readonly value: Static; readonly valueNode: TS.Expression | undefined }[] | undefined;
  readonly computed: boolean;
}
export interface HypothesisInfo extends Named {
  readonly kind: "hypothesis";
  readonly node: TS.Expression;
  readonly metrics: readonly { readonly name: string; readonly node: TS.Node }[] | undefined;
}
export interface ArtifactInfo extends Named {
  readonly kind: "artifact";
  readonly node: TS.Expression;
}
export interface InputInfo {
  readonly kind: "input";
  readonly node: TS.Expression;
  readonly entries: readonly { readonly key: string; readonly node: TS.Node; readonly value: Value }[];
}
export interface OutputRefInfo {
  readonly kind: "output-ref";
  readonly node: TS.CallExpression;
  readonly experiment: Value;
  readonly artifact: Value;
  readonly artifactNode: TS.Expression;
}
export interface PipelineInfo {
  readonly kind: "pipeline";
  readonly node: TS.Expression;
  readonly steps: readonly Value[];
  /** Where each step is used (the argument), parallel to `steps`. */
  readonly uses: readonly TS.Node[];
}
export interface ArrayInfo {
  readonly kind: "array";
  readonly node: TS.Expression;
  readonly elements: readonly Value[];
  /** Where each element is written, parallel to `elements`. */
  readonly uses: readonly TS.Node[];
}
export interface UnknownInfo {
  readonly kind: "unknown";
  readonly node: TS.Node;
  /** Why a call of a project function could not be followed, e.g. "make does not return a step(...) call" (for CRY1016). */
  readonly reason?: string;
}
export interface Setting {
  readonly value: Static;
  readonly node: TS.Expression;
}
export interface ExperimentInfo extends Named {
  readonly kind: "experiment";
  /** The construction: the experiment(...) call or the builder's .build() call. */
  readonly node: TS.CallExpression;
  readonly form: "call" | "builder";
  readonly file: TS.SourceFile;
  readonly source: Value | undefined;
  readonly sourceNode: TS.Expression | undefined;
  /** In order; undefined when the pipeline could not be followed. */
  readonly steps: readonly Value[] | undefined;
  /** Where each step, treatment, hypothesis and output is used, parallel to the lists. */
  readonly stepUses: readonly TS.Node[];
  readonly treatmentUses: readonly TS.Node[];
  readonly hypothesisUses: readonly TS.Node[];
  readonly outputUses: readonly TS.Node[];
  readonly pipelineNode: TS.Node | undefined;
  readonly treatments: readonly Value[] | undefined;
  readonly hypotheses: readonly Value[] | undefined;
  readonly outputs: readonly Value[] | undefined;
  readonly replicates: Setting | undefined;
  readonly seed: Setting | undefined;
}
export interface GraphInfo extends Named {
  readonly kind: "graph";
  readonly node: TS.CallExpression;
  readonly file: TS.SourceFile;
  readonly members: readonly Value[] | undefined;
  readonly memberUses: readonly TS.Node[];
  readonly membersNode: TS.Expression | undefined;
}

export type Value =
  | StepInfo
  | SourceInfo
  | TreatmentInfo
  | HypothesisInfo
  | ArtifactInfo
  | InputInfo
  | OutputRefInfo
  | PipelineInfo
  | ArrayInfo
  | ExperimentInfo
  | GraphInfo
  | UnknownInfo;

/** Where an experiment or graph can be imported from. */
export interface Address {
  readonly file: TS.SourceFile;
  /** The export name ("default" for a default export). */
  readonly exportName: string;
  readonly declaration: TS.Declaration;
}

export interface Discovered<T> {
  readonly info: T;
  /** Every export that leads to it; the first is canonical (the defining file's own export). */
  readonly addresses: readonly Address[];
}

export interface Discovery {
  readonly experiments: readonly Discovered<ExperimentInfo>[];
  readonly graphs: readonly Discovered<GraphInfo>[];
  /** Constructions that no export leads to (for the portability rules). */
  readonly unexported: readonly (ExperimentInfo | GraphInfo)[];
  /** Exports whose type is an experiment or graph but whose definition could not be followed. */
  readonly opaque: readonly { readonly file: TS.SourceFile; readonly exportName: string; readonly node: TS.Node; readonly kind: "experiment" | "graph" }[];
  /** Exports that are neither (for "did you mean" messages). */
  readonly otherExports: readonly { readonly file: TS.SourceFile; readonly exportName: string }[];
}

export interface AnalysisHost {
  readonly program: TS.Program;
  readonly checker: TS.TypeChecker;
  /** The project's directory (the tsconfig's). */
  readonly root: string;
}

/** A file whose code belongs to the project: not a declaration file, not a package, under the root. */
export function isProjectFile(host: Pick<AnalysisHost, "root">, sf: TS.SourceFile): boolean {
  if (sf.isDeclarationFile) return false;
  const f = sf.fileName;
  if (/[\\/]node_modules[\\/]/.test(f)) return false;
  const rel = relative(host.root, f);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel);
}

export function isDslFile(host: AnalysisHost, sf: TS.SourceFile): boolean {
  if (isProjectFile(host, sf)) return false;
  return /[\\/]dsl[\\/][^\\/]+$/.test(sf.fileName) || /[\\/]node_modules[\\/]crystallize(?:-ts)?[\\/]/.test(sf.fileName);
}

/** Whether a symbol (already resolved through aliases) is one of the DSL's builder functions. */
export function isDslFunctionSymbol(host: AnalysisHost, sym: TS.Symbol): boolean {
  if (!DSL_NAMES.has(sym.name)) return false;
  const decl = sym.valueDeclaration ?? sym.declarations?.[0];
  return !!decl && isDslFile(host, decl.getSourceFile());
}

/** The DSL function a callee refers to ("step", ...), through imports and aliases. */
export function dslFunctionOf(host: AnalysisHost, callee: TS.Expression): DslName | undefined {
  const c = skipOuter(callee);
  let sym: TS.Symbol | undefined;
  try {
    sym = host.checker.getSymbolAtLocation(ts.isPropertyAccessExpression(c) ? c.name : c);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = host.checker.getAliasedSymbol(sym);
  } catch {
    return undefined;
  }
  return sym && isDslFunctionSymbol(host, sym) ? (sym.name as DslName) : undefined;
}

function nameOf(host: AnalysisHost, node: TS.Expression | undefined, fallback: TS.Node): Named {
  if (!node) return { name: undefined, nameNode: fallback };
  const v = evaluate(host.checker, node);
  return { name: typeof v === "string" ? v : undefined, nameNode: node };
}

/** Follows expressions to the DSL nodes they build. Memoized per node; cycle-safe. */
export class Tracer {
  private readonly memo = new Map<TS.Node, Value>();
  constructor(public host: AnalysisHost) {}

  /**
   * Moves to a new program (watch mode), keeping what was traced in files that did not change and
   * do not import changed files (their nodes are the same objects in the new program).
   */
  retarget(host: AnalysisHost, affectedFiles: ReadonlySet<string>): void {
    this.host = host;
    for (const node of [...this.memo.keys()]) if (affectedFiles.has(node.getSourceFile().fileName)) this.memo.delete(node);
  }

  trace(expr: TS.Expression | undefined, depth = 0): Value {
    if (!expr) return { kind: "unknown", node: this.host.program.getSourceFiles()[0]! };
    const e = skipOuter(expr);
    if (depth > 40) return { kind: "unknown", node: e };
    const hit = this.memo.get(e);
    if (hit) return hit;
    this.memo.set(e, { kind: "unknown", node: e }); // cycle guard
    let v: Value;
    try {
      v = this.compute(e, depth);
    } catch {
      v = { kind: "unknown", node: e };
    }
    this.memo.set(e, v);
    return v;
  }

  private compute(e: TS.Expression, depth: number): Value {
    if (ts.isIdentifier(e)) {
      const init = constInitializer(this.host.checker, e) ?? letInitializer(this.host.checker, e);
      return init ? this.trace(init, depth + 1) : { kind: "unknown", node: e };
    }
    if (ts.isArrayLiteralExpression(e)) {
      const [elements, uses] = this.spreadList(e.elements, depth);
      return { kind: "array", node: e, elements, uses };
    }
    if (ts.isCallExpression(e)) return this.call(e, depth);
    return { kind: "unknown", node: e };
  }

  private call(e: TS.CallExpression, depth: number): Value {
    const callee = skipOuter(e.expression);
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === "build" && e.arguments.length === 0) {
      return this.builder(e, depth) ?? { kind: "unknown", node: e };
    }
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === "output" && e.arguments.length === 1) {
      const experiment = this.trace(callee.expression, depth + 1);
      if (experiment.kind === "experiment" || experiment.kind === "unknown") {
        return { kind: "output-ref", node: e, experiment, artifact: this.trace(e.arguments[0], depth + 1), artifactNode: e.arguments[0]! };
      }
    }
    const fn = dslFunctionOf(this.host, callee);
    const args = e.arguments;
    switch (fn) {
      case "step":
        return this.step(e, args);
      case "source":
        return { kind: "source", node: e, ...nameOf(this.host, args[0], e), fetch: args[1] };
      case "pipeline":
      {
        const [steps, uses] = this.spreadList(args, depth);
        return { kind: "pipeline", node: e, steps, uses };
      }
      case "treatment":
        return this.treatment(e, args);
      case "hypothesis":
        return this.hypothesis(e, args);
      case "artifact":
        return { kind: "artifact", node: e, ...nameOf(this.host, args[0], e) };
      case "input":
        return this.input(e, args, depth);
      case "experiment":
        return this.experimentCall(e, args, depth);
      case "graph": {
        const list = args[1] ? this.trace(args[1], depth + 1) : undefined;
        return {
          kind: "graph",
          node: e,
          file: e.getSourceFile(),
          ...nameOf(this.host, args[0], e),
          members: list?.kind === "array" ? list.elements : undefined,
          memberUses: list?.kind === "array" ? list.uses : [],
          membersNode: args[1],
        };
      }
      case undefined:
        return this.factoryCall(e, callee);
      default:
        return { kind: "unknown", node: e };
    }
  }

  /** A call of a project function that returns step(...): the step it makes at this call site. */
  private factoryCall(e: TS.CallExpression, callee: TS.Expression): Value {
    const fn = factoryOf(this.host, callee);
    if (fn === undefined) return { kind: "unknown", node: e };
    const label = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : "the function";
    const notFollowed = (why: string): UnknownInfo => ({ kind: "unknown", node: e, reason: `${label} ${why}` });
    if (typeof fn === "string") return notFollowed(fn);
    const stepCall = factoryReturn(this.host, fn);
    if (typeof stepCall === "string") return notFollowed(stepCall);
    return this.step(stepCall, stepCall.arguments, { call: e, fn, bindings: bindParameters(this.host.checker, fn, e.arguments) });
  }

  private spreadList(args: TS.NodeArray<TS.Expression>, depth: number): [Value[], TS.Node[]] {
    const out: Value[] = [];
    const uses: TS.Node[] = [];
    for (const a of args) {
      if (ts.isSpreadElement(a)) {
        const inner = this.trace(a.expression, depth + 1);
        if (inner.kind === "array") {
          out.push(...inner.elements);
          uses.push(...inner.elements.map(() => a));
        } else {
          out.push({ kind: "unknown", node: a });
          uses.push(a);
        }
      } else if (!ts.isOmittedExpression(a)) {
        out.push(this.trace(a, depth + 1));
        uses.push(a);
      }
    }
    return [out, uses];
  }

  /** A step(...) call; `use` when a factory returns it (its parameters bound to the call's arguments). */
  private step(e: TS.CallExpression, args: TS.NodeArray<TS.Expression>, use?: FactoryUse): StepInfo {
    const env = use?.bindings;
    const checker = this.host.checker;
    const named = use ? factoryStepName(this.host, args[0], use) : nameOf(this.host, args[0], e);
    const hasOptions = args.length >= 3;
    const optionsExpr = hasOptions ? args[1] : undefined;
    const options = optionsExpr ? objectLiteralOf(checker, optionsExpr, 0, env) : undefined;
    const prop = (n: string) => (options ? propertyOf(checker, options, n) : undefined);
    const paramsNode = prop("params");
    const metricsNode = prop("metrics");
    const cacheableNode = prop("cacheable");
    const metrics: { name: string; node: TS.Node }[] = [];
    let metricsKnown = !optionsExpr || !!options;
    if (metricsNode) {
      const list = arrayLiteralOf(checker, metricsNode, 0, env);
      if (list) {
        for (const el of list.elements) {
          const v = evaluate(checker, el as TS.Expression, env);
          if (typeof v === "string") metrics.push({ name: v, node: el });
          else metricsKnown = false;
        }
      } else metricsKnown = false;
    }
    const cacheable = cacheableNode ? evaluate(checker, cacheableNode, env) === true : false;
    const run = args[args.length - 1] && args.length >= 2 ? args[args.length - 1] : undefined;
    return {
      kind: "step",
      node: use ? use.call : e,
      ...named,
      options,
      paramsNode,
      params: paramsNode ? evaluate(checker, paramsNode, env) : optionsExpr && !options ? UNKNOWN : {},
      metrics,
      metricsNode,
      metricsKnown,
      cacheable,
      // A run function passed to the factory is hashed as the step's root, where it is written.
      run: run && bound(checker, run, env),
      ...(use ? { factory: use } : {}),
    };
  }

  private treatment(e: TS.CallExpression, args: TS.NodeArray<TS.Expression>): TreatmentInfo {
    const named = nameOf(this.host, args[0], e);
    const valuesExpr = args[1] ? skipOuter(args[1]) : undefined;
    const computed = !!valuesExpr && (ts.isArrowFunction(valuesExpr) || ts.isFunctionExpression(valuesExpr));
    const obj = valuesExpr && !computed ? objectLiteralOf(this.host.checker, valuesExpr) : undefined;
    let keys: { key: string; node: TS.Node; value: Static; valueNode: TS.Expression | undefined }[] | undefined;
    if (obj) {
      keys = [];
      for (const p of obj.properties) {
        if (ts.isPropertyAssignment(p)) {
          const key = propertyKey(this.host.checker, p.name);
          if (key === undefined) return { kind: "treatment", node: e, ...named, keys: undefined, computed };
          keys.push({ key, node: p.name, value: evaluate(this.host.checker, p.initializer), valueNode: p.initializer });
        } else if (ts.isShorthandPropertyAssignment(p)) {
          keys.push({ key: p.name.text, node: p.name, value: evaluate(this.host.checker, p.name), valueNode: p.name });
        } else {
          return { kind: "treatment", node: e, ...named, keys: undefined, computed };
        }
      }
    }
    return { kind: "treatment", node: e, ...named, keys, computed };
  }

  private hypothesis(e: TS.CallExpression, args: TS.NodeArray<TS.Expression>): HypothesisInfo {
    const named = nameOf(this.host, args[0], e);
    const obj = args[1] ? objectLiteralOf(this.host.checker, args[1]) : undefined;
    const metricNode = obj ? propertyOf(this.host.checker, obj, "metric") : undefined;
    let metrics: { name: string; node: TS.Node }[] | undefined;
    if (metricNode) {
      const list = arrayLiteralOf(this.host.checker, metricNode);
      const nodes = list ? [...list.elements] : [metricNode];
      metrics = [];
      for (const n of nodes) {
        const v = evaluate(this.host.checker, n as TS.Expression);
        if (typeof v === "string") metrics.push({ name: v, node: n });
        else {
          metrics = undefined;
          break;
        }
      }
    }
    return { kind: "hypothesis", node: e, ...named, metrics };
  }

  private input(e: TS.CallExpression, args: TS.NodeArray<TS.Expression>, depth: number): InputInfo {
    const obj = args[0] ? objectLiteralOf(this.host.checker, args[0]) : undefined;
    const entries: { key: string; node: TS.Node; value: Value }[] = [];
    if (obj) {
      for (const p of obj.properties) {
        if (ts.isPropertyAssignment(p)) {
          entries.push({ key: propertyKey(this.host.checker, p.name) ?? "?", node: p.initializer, value: this.trace(p.initializer, depth + 1) });
        } else if (ts.isShorthandPropertyAssignment(p)) {
          entries.push({ key: p.name.text, node: p.name, value: this.trace(p.name, depth + 1) });
        }
      }
    }
    return { kind: "input", node: e, entries };
  }

  private list(expr: TS.Expression | undefined, depth: number): ArrayInfo | undefined {
    if (!expr) return { kind: "array", node: expr as unknown as TS.Expression, elements: [], uses: [] };
    const v = this.trace(expr, depth + 1);
    return v.kind === "array" ? v : undefined;
  }

  private experimentCall(e: TS.CallExpression, args: TS.NodeArray<TS.Expression>, depth: number): ExperimentInfo {
    const named = nameOf(this.host, args[0], e);
    const def = args[1] ? objectLiteralOf(this.host.checker, args[1]) : undefined;
    const prop = (n: string) => (def ? propertyOf(this.host.checker, def, n) : undefined);
    const pipelineNode = prop("pipeline");
    const pipe = pipelineNode ? this.trace(pipelineNode, depth + 1) : undefined;
    const sourceNode = prop("source");
    const setting = (n: string): Setting | undefined => {
      const node = prop(n);
      return node ? { value: evaluate(this.host.checker, node), node } : undefined;
    };
    const known = !!def;
    const treatments = known ? this.list(prop("treatments"), depth) : undefined;
    const hypotheses = known ? this.list(prop("hypotheses"), depth) : undefined;
    const outputs = known ? this.list(prop("outputs"), depth) : undefined;
    return {
      kind: "experiment",
      node: e,
      form: "call",
      file: e.getSourceFile(),
      ...named,
      source: sourceNode ? this.trace(sourceNode, depth + 1) : undefined,
      sourceNode,
      steps: pipe?.kind === "pipeline" ? pipe.steps : undefined,
      stepUses: pipe?.kind === "pipeline" ? pipe.uses : [],
      pipelineNode: pipelineNode ?? args[1] ?? e,
      treatments: treatments?.elements,
      treatmentUses: treatments?.uses ?? [],
      hypotheses: hypotheses?.elements,
      hypothesisUses: hypotheses?.uses ?? [],
      outputs: outputs?.elements,
      outputUses: outputs?.uses ?? [],
      replicates: setting("replicates"),
      seed: setting("seed"),
    };
  }

  /** `experiment.builder(name).source(s).step(a)...build()`, through consts holding partial chains. */
  private builder(build: TS.CallExpression, depth: number): ExperimentInfo | undefined {
    const calls: TS.CallExpression[] = [];
    let cur: TS.Expression = skipOuter((build.expression as TS.PropertyAccessExpression).expression);
    let root: TS.CallExpression | undefined;
    for (let guard = 0; guard < 500; guard++) {
      if (ts.isIdentifier(cur)) {
        const init = constInitializer(this.host.checker, cur);
        if (!init) return undefined;
        cur = skipOuter(init);
        continue;
      }
      if (!ts.isCallExpression(cur)) return undefined;
      const callee = skipOuter(cur.expression);
      if (!ts.isPropertyAccessExpression(callee)) return undefined;
      if (callee.name.text === "builder" && dslFunctionOf(this.host, callee.expression) === "experiment") {
        root = cur;
        break;
      }
      calls.unshift(cur);
      cur = skipOuter(callee.expression);
    }
    if (!root) return undefined;
    let source: Value | undefined;
    let sourceNode: TS.Expression | undefined;
    const steps: Value[] = [];
    const stepUses: TS.Node[] = [];
    let treatments: Value[] | undefined = [];
    let hypotheses: Value[] | undefined = [];
    let outputs: Value[] | undefined = [];
    const treatmentUses: TS.Node[] = [];
    const hypothesisUses: TS.Node[] = [];
    const outputUses: TS.Node[] = [];
    let replicates: Setting | undefined;
    let seed: Setting | undefined;
    const append = (list: Value[] | undefined, uses: TS.Node[], arg: TS.Expression | undefined) => {
      const items = this.list(arg, depth);
      if (items) uses.push(...items.uses);
      return list && items ? [...list, ...items.elements] : undefined;
    };
    for (const c of calls) {
      const method = (skipOuter(c.expression) as TS.PropertyAccessExpression).name.text;
      const arg = c.arguments[0];
      switch (method) {
        case "source":
          sourceNode = arg;
          source = this.trace(arg, depth + 1);
          break;
        case "step":
          steps.push(this.trace(arg, depth + 1));
          stepUses.push(arg ?? c);
          break;
        case "treatments":
          treatments = append(treatments, treatmentUses, arg);
          break;
        case "hypotheses":
          hypotheses = append(hypotheses, hypothesisUses, arg);
          break;
        case "outputs":
          outputs = append(outputs, outputUses, arg);
          break;
        case "replicates":
          if (arg) replicates = { value: evaluate(this.host.checker, arg), node: arg };
          break;
        case "seed":
          if (arg) seed = { value: evaluate(this.host.checker, arg), node: arg };
          break;
        default:
          break;
      }
    }
    return {
      kind: "experiment",
      node: build,
      form: "builder",
      file: build.getSourceFile(),
      ...nameOf(this.host, root.arguments[0], root),
      source,
      sourceNode,
      steps,
      stepUses,
      pipelineNode: build,
      treatments,
      treatmentUses,
      hypotheses,
      hypothesisUses,
      outputs,
      outputUses,
      replicates,
      seed,
    };
  }
}

function letInitializer(checker: TS.TypeChecker, id: TS.Identifier): TS.Expression | undefined {
  let sym: TS.Symbol | undefined;
  try {
    sym = checker.getSymbolAtLocation(id);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  } catch {
    return undefined;
  }
  const decl = sym?.valueDeclaration;
  return decl && ts.isVariableDeclaration(decl) ? decl.initializer : undefined;
}

/** The literal of kind `is` that `expr` is, or that the consts it names hold (up to 10 hops). */
function literalOf<T extends TS.Expression>(checker: TS.TypeChecker, expr: TS.Expression, is: (e: TS.Node) => e is T, depth: number, env: Bindings | undefined): T | undefined {
  const e = skipOuter(expr);
  if (is(e)) return e;
  if (ts.isIdentifier(e) && depth < 10) {
    const init = identifierValue(checker, e, env);
    return init ? literalOf(checker, init, is, depth + 1, env) : undefined;
  }
  return undefined;
}

export function objectLiteralOf(checker: TS.TypeChecker, expr: TS.Expression, depth = 0, env?: Bindings): TS.ObjectLiteralExpression | undefined {
  return literalOf(checker, expr, ts.isObjectLiteralExpression, depth, env);
}

export function arrayLiteralOf(checker: TS.TypeChecker, expr: TS.Expression, depth = 0, env?: Bindings): TS.ArrayLiteralExpression | undefined {
  return literalOf(checker, expr, ts.isArrayLiteralExpression, depth, env);
}

/** The value expression of property `name` of an object literal (last one wins, like JS). */
export function propertyOf(checker: TS.TypeChecker, obj: TS.ObjectLiteralExpression, name: string): TS.Expression | undefined {
  let found: TS.Expression | undefined;
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && propertyKey(checker, p.name) === name) found = p.initializer;
    else if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) found = p.name;
  }
  return found;
}

/** Finds the experiment and graph constructions in a project file (including unexported ones). */
function constructionsIn(host: AnalysisHost, tracer: Tracer, sf: TS.SourceFile): (ExperimentInfo | GraphInfo)[] {
  // Local names bound to the DSL's experiment/graph functions (through imports and aliases).
  const found: (ExperimentInfo | GraphInfo)[] = [];
  const text = sf.text;
  if (!text.includes("experiment") && !text.includes("graph") && !text.includes("build")) return found;
  const visit = (node: TS.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = skipOuter(node.expression);
      let candidate = false;
      if (ts.isPropertyAccessExpression(callee)) candidate = callee.name.text === "build";
      else if (ts.isIdentifier(callee)) candidate = true;
      if (candidate) {
        const fn = ts.isIdentifier(callee) ? dslFunctionOf(host, callee) : undefined;
        if (fn === "experiment" || fn === "graph" || ts.isPropertyAccessExpression(callee)) {
          const v = tracer.trace(node);
          if (v.kind === "experiment" || v.kind === "graph") found.push(v);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}

function exportedDeclarationValue(tracer: Tracer, decl: TS.Declaration): Value | undefined {
  if (ts.isVariableDeclaration(decl)) return decl.initializer ? tracer.trace(decl.initializer) : undefined;
  if (ts.isExportAssignment(decl)) return tracer.trace(decl.expression);
  return undefined;
}

/** Reads the `kind` tag of a DSL node's type ("experiment", "graph", ...), if it has one. */
export function kindTagOf(checker: TS.TypeChecker, type: TS.Type): string | undefined {
  const prop = type.getProperty("kind");
  if (!prop) return undefined;
  const t = checker.getTypeOfSymbol(prop);
  return t.isStringLiteral() ? t.value : undefined;
}

/** Per-file construction lists kept between programs (watch mode): valid while the file's node is the same. */
export type ConstructionCache = Map<string, { readonly sf: TS.SourceFile; readonly list: readonly (ExperimentInfo | GraphInfo)[] }>;

/** Discovers every experiment and graph of the given project files. */
export function discover(host: AnalysisHost, files: readonly TS.SourceFile[], tracer = new Tracer(host), cache?: ConstructionCache): Discovery {
  const { checker } = host;
  const constructions = new Map<TS.Node, ExperimentInfo | GraphInfo>();
  for (const sf of files) {
    const hit = cache?.get(sf.fileName);
    const list = hit && hit.sf === sf ? hit.list : constructionsIn(host, tracer, sf);
    cache?.set(sf.fileName, { sf, list });
    for (const c of list) constructions.set(c.node, c);
  }
  const addresses = new Map<TS.Node, Address[]>();
  const opaque: { file: TS.SourceFile; exportName: string; node: TS.Node; kind: "experiment" | "graph" }[] = [];
  const otherExports: { file: TS.SourceFile; exportName: string }[] = [];
  for (const sf of files) {
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    let exports: TS.Symbol[];
    try {
      exports = checker.getExportsOfModule(moduleSymbol);
    } catch {
      continue;
    }
    for (const exp of exports) {
      let target = exp;
      try {
        if (target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
      } catch {
        continue;
      }
      const decl = target.valueDeclaration ?? target.declarations?.find((d) => ts.isExportAssignment(d));
      if (!decl) continue;
      const value = exportedDeclarationValue(tracer, decl);
      if (value && (value.kind === "experiment" || value.kind === "graph")) {
        constructions.set(value.node, value);
        const list = addresses.get(value.node) ?? [];
        list.push({ file: sf, exportName: exp.name, declaration: decl });
        addresses.set(value.node, list);
        continue;
      }
      if (!(target.flags & (ts.SymbolFlags.Variable | ts.SymbolFlags.Property))) {
        otherExports.push({ file: sf, exportName: exp.name });
        continue;
      }
      let tag: string | undefined;
      try {
        tag = kindTagOf(checker, checker.getTypeOfSymbol(target));
      } catch {
        tag = undefined;
      }
      if ((tag === "experiment" || tag === "graph") && decl.getSourceFile() === sf) {
        opaque.push({ file: sf, exportName: exp.name, node: ts.isVariableDeclaration(decl) ? decl.name : decl, kind: tag });
      } else if (tag !== "experiment" && tag !== "graph") {
        otherExports.push({ file: sf, exportName: exp.name });
      }
    }
  }
  const experiments: Discovered<ExperimentInfo>[] = [];
  const graphs: Discovered<GraphInfo>[] = [];
  const unexported: (ExperimentInfo | GraphInfo)[] = [];
  for (const c of constructions.values()) {
    const list = addresses.get(c.node);
    if (!list || list.length === 0) {
      unexported.push(c);
      continue;
    }
    const rank = (a: Address) => (a.file === c.file ? 0 : 1);
    const sorted = [...list].sort((a, b) => rank(a) - rank(b) || a.file.fileName.localeCompare(b.file.fileName) || (a.exportName === "default" ? 1 : 0) - (b.exportName === "default" ? 1 : 0) || a.exportName.localeCompare(b.exportName));
    if (c.kind === "experiment") experiments.push({ info: c, addresses: sorted });
    else graphs.push({ info: c, addresses: sorted });
  }
  const order = (a: { info: { file: TS.SourceFile; node: TS.Node } }, b: { info: { file: TS.SourceFile; node: TS.Node } }) =>
    a.info.file.fileName.localeCompare(b.info.file.fileName) || a.info.node.pos - b.info.node.pos;
  experiments.sort(order);
  graphs.sort(order);
  return { experiments, graphs, unexported, opaque, otherExports };
}

/** Steps of an experiment that were followed to a step(...) call. */
export function knownSteps(exp: ExperimentInfo): StepInfo[] {
  return (exp.steps ?? []).filter((s): s is StepInfo => s.kind === "step");
}
