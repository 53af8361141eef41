// `crystallize report` in a real headless Chromium (Debian's chromium, driven by playwright-core):
// the file loads with no console error and no request beyond itself, every plot holds as many
// marks of each layer as the stored data says, and a screenshot is taken. Set CHROMIUM to the
// browser's path when it is not on PATH as `chromium`; .ci/run installs it.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifact, experiment, graph, hypothesis, input, pipeline, source, step, treatment, welchTTest, type Artifact } from "../../src/index.js";
import { readStoredResult, storedValues } from "../../src/runtime/registry/index.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "crystallize.js");
let dir: string;
let out: string;
let browser: Browser;

function chromiumPath(): string {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("The report test needs Debian's chromium (apt-get install -y chromium) or CHROMIUM=/path/to/chrome");
  }
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, "--out", out], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const nums = source("nums", (ctx) => Array.from({ length: 12 }, () => ctx.random()));
function demo(shift: number) {
  const scale = step("scale", { params: { k: 1, shift }, metrics: ["mean", "max"] }, (xs: number[], ctx) => {
    if (ctx.condition === "broken" && ctx.replicate === 2) throw new Error("replicate 2 of broken fails");
    const ys = xs.map((x) => x * ctx.params.k + ctx.params.shift);
    ctx.record("mean", ys.reduce((a, b) => a + b, 0) / ys.length);
    ctx.record("max", Math.max(...ys));
    return ys;
  });
  const sum = step("sum", { metrics: [] }, (ys: number[]) => ys.reduce((a, b) => a + b, 0));
  return experiment("demo", {
    source: nums,
    pipeline: pipeline(scale, sum),
    treatments: [treatment("double", { k: 2 }), treatment("broken", { k: 1.1 })],
    hypotheses: [hypothesis("bigger", { metric: "mean", test: welchTTest({ alternative: "greater" }) })],
    replicates: 8,
    seed: 4,
  });
}

function graphRun() {
  const data = artifact<number[]>("data.json");
  const produce = experiment("produce", {
    source: nums,
    pipeline: pipeline(step("keep", (xs: number[], ctx) => (ctx.artifacts.write(data, xs), xs))),
    outputs: [data],
    replicates: 2,
  });
  const consume = experiment("consume", {
    source: input({ data: produce.output(data as Artifact<number[]>) }) as never,
    pipeline: pipeline(step("count", { metrics: ["n"] }, (i: { data: number[] }, ctx) => (ctx.record("n", i.data.length), i))),
    replicates: 2,
  });
  return graph("chain", [produce, consume]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cry-report-"));
  out = join(dir, ".crystallize");
  await demo(0).run({ outDir: out });
  await demo(0.25).run({ outDir: out });
  await graphRun().run({ outDir: out });
  // The background-networking flags keep Chromium from dialling out on a closed network.
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Figure {
  plot: string;
  marks: Record<string, number>;
  counted: Record<string, number>;
}

async function open(file: string) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const url = `file://${file}`;
  page.on("request", (r) => {
    if (r.url() !== url) problems.push(`request: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: "load" });
  const figures = await page.$$eval("figure.plot", (fs) =>
    fs.map((f) => {
      // No DOM lib in this tsconfig: the element's dataset, structurally.
      const data = (f as unknown as { dataset: Record<string, string> }).dataset;
      const marks = Object.fromEntries(data.marks!.split(",").map((kv: string) => [kv.split(":")[0]!, Number(kv.split(":")[1])]));
      // The items of each named layer are the element children of its `<name>_marks` group.
      const counted = Object.fromEntries(Object.keys(marks).map((k) => [k, f.querySelector(`g.${k}_marks`)?.children.length ?? -1]));
      return { plot: data.plot!, marks, counted };
    }),
  );
  return { page, problems, figures: figures as Figure[] };
}

describe("crystallize report", () => {
  it("writes one self-contained file whose plots have one mark per replicate, mean and CI, with no console error", async () => {
    const file = join(dir, "demo.html");
    expect(cli(["report", "demo@v1", "--compare", "demo@v0", "-o", file])).toContain("wrote the report of demo@v1 (compared with demo@v0)");
    const html = readFileSync(file, "utf8");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const { page, problems, figures } = await open(file);
    expect(problems).toEqual([]);

    // Every figure: the SVG holds exactly the marks its data calls for.
    for (const f of figures) expect(f.counted, f.plot).toEqual(f.marks);

    // And those numbers are the stored data's: per metric, a dot per stored value, and a mean and
    // a CI per condition; in the compare view, both runs' conditions.
    const v1 = storedValues(await readStoredResult(join(out, "artifacts/demo/v1")));
    const v0 = storedValues(await readStoredResult(join(out, "artifacts/demo/v0")));
    const values = (v: typeof v1, m: string) => Object.values(v).reduce((n, byMetric) => n + (byMetric[m]?.length ?? 0), 0);
    const dist = figures.filter((f) => f.plot === "distribution");
    expect(dist.map((f) => f.marks)).toEqual([
      { dots: values(v1, "max"), ci: 3, mean: 3 },
      { dots: values(v1, "mean"), ci: 3, mean: 3 },
    ]);
    expect(values(v1, "mean")).toBe(8 + 8 + 7); // broken lost replicate 2
    expect(figures.filter((f) => f.plot === "effect").map((f) => f.marks)).toEqual([{ zero: 1, ci: 2, effect: 2 }]);
    expect(figures.filter((f) => f.plot === "timing").map((f) => f.marks)).toEqual([{ bars: 2 }]);
    expect(figures.filter((f) => f.plot === "compare").map((f) => f.marks)).toEqual([
      { dots: values(v1, "max") + values(v0, "max"), ci: 6, mean: 6 },
      { dots: values(v1, "mean") + values(v0, "mean"), ci: 6, mean: 6 },
    ]);

    // The ranking, the failure, and the compare table are there as text.
    const text = await page.innerText("body");
    expect(text).toMatch(/Ranking: bigger[\s\S]*1\s+double[\s\S]*2\s+broken/);
    expect(text).toMatch(/broken\s+2\s+scale\s+E_STEP_FAILED\s+Step "scale" failed: replicate 2 of broken fails/);
    expect(text).toMatch(/Compared with demo@v0[\s\S]*baseline\s+mean\s+\S+\s+\S+\s+-0\.25/);

    const shot = join(dir, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    // REPORT_SCREENSHOT=docs/report.png refreshes the README's picture from this very page.
    if (process.env.REPORT_SCREENSHOT) copyFileSync(shot, join(repo, process.env.REPORT_SCREENSHOT));
    await page.close();
  });

  it("draws the graph of a graph run, one node per experiment and one line per edge", async () => {
    const file = join(dir, "graph.html");
    cli(["report", "consume", "-o", file]);
    const { page, problems, figures } = await open(file);
    expect(problems).toEqual([]);
    const g = figures.find((f) => f.plot === "graph")!;
    expect(g.marks).toEqual({ nodes: 2, edges: 1, labels: 2 });
    expect(g.counted).toEqual(g.marks);
    expect(await page.innerText("body")).toMatch(/Graph chain[\s\S]*consume@v0/);
    await page.close();
    expect(existsSync(file)).toBe(true);
  });
});
