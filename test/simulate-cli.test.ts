import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { bucketSeconds, timelineSpec } from "../offline/commands/chart";
import { runPlan } from "../offline/commands/plan";
import { main } from "../offline/commands/simulate";
import { compareDefaults, comparisonTable, type ComparisonRow } from "../offline/commands/whyDefaults";
import { simulate } from "../simulator";
import { captureOutput } from "./helpers";
import { findAll, parseXml } from "../offline/plan/xml";

const ROOT = path.resolve(__dirname, "..");
const SCENARIOS = fs.readdirSync(path.join(ROOT, "scenarios")).filter((f) => f.endsWith(".yaml"));

const capture = (argv: string[]) => captureOutput(() => main(argv));

describe("npm run simulate", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "simulate-"));

  it("ships the scenarios the README and docs describe", () => {
    expect(SCENARIOS.map((f) => f.replace(/\.yaml$/, "")).sort()).to.deep.equal([
      "bursts",
      "deployment-isolation",
      "ptu-spillover",
      "region-loss",
      "regional-outage",
      "retry-after-one-day",
      "saturation",
      "team-fairness",
    ]);
  });

  for (const file of SCENARIOS) {
    // One scenario in the fast suite, every scenario with the slow one.
    it(`runs scenarios/${file}, printing the report and writing report.json and an SVG chart${file === "regional-outage.yaml" ? "" : " [heavy]"}`, async () => {
      const out = path.join(dir, file);
      const run = await capture(["--scenario", path.join(ROOT, "scenarios", file), "--out", out]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout)
        .to.match(/^Resilience simulation of /)
        .and.contain("Clients: ");
      const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
      for (const field of [
        "successRate",
        "statusCounts",
        "latencyMs",
        "throughputFraction",
        "callsPerRequest",
        "callsPerBackend",
        "failoverMs",
        "faultWindows",
      ]) {
        expect(report, field).to.have.property(field);
      }
      expect(report.latencyMs).to.have.keys(["p50", "p95"]);
      const svg = parseXml(fs.readFileSync(path.join(out, "chart.svg"), "utf8"));
      expect(svg.tag).to.equal("svg");
      const texts = findAll(svg, "text").map((t) => t.text);
      expect(texts).to.include.members([
        "succeeded",
        "429 to clients",
        "503 to clients",
        ...Object.keys(report.callsPerBackend),
      ]);
    });
  }

  it("prints the result as JSON with --json", async () => {
    const out = path.join(dir, "json");
    const run = await capture(["--scenario", "scenarios/regional-outage.yaml", "--out", out, "--json"]);
    expect(JSON.parse(run.stdout)).to.deep.equal(JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")));
    expect(JSON.parse(run.stdout).faultWindows[0]).to.include({ backend: "swedencentral", status: 500 });
  });

  it("fails with the key and what is allowed for a bad scenario", async () => {
    const file = path.join(dir, "bad.yaml");
    fs.writeFileSync(
      file,
      "durationSeconds: 60\narrivals: { perMinute: 10 }\nrequest: { deployment: gpt-5, promptTokens: 1, maxTokens: 1, completionTokens: 1 }\n",
    );
    const run = await capture(["--scenario", file, "--out", dir]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain(
      'scenario.request.deployment: got "gpt-5"; allowed: a deployment of the stack: gpt-4o-mini',
    );
  });

  it("charts offered load and outcomes per minute, and breakers per backend", async () => {
    const { model } = await runPlan({ stack: "dev" });
    const result = simulate(model, {
      durationSeconds: 120,
      arrivals: { perMinute: 30 },
      request: { deployment: "gpt-4o-mini", promptTokens: 300, maxTokens: 200, completionTokens: 100 },
    });
    const spec = timelineSpec(result, "t") as {
      vconcat: { data: { values: { series?: string; perMinute?: number; backend?: string }[] } }[];
    };
    const offered = spec.vconcat[0].data.values.filter((v) => v.series === "offered");
    const bucket = bucketSeconds(result.timeline.seconds);
    expect(offered.reduce((a, v) => a + v.perMinute! / (60 / bucket), 0)).to.be.closeTo(result.clientRequests, 1e-6);
    expect(new Set(spec.vconcat[1].data.values.map((v) => v.backend))).to.deep.equal(
      new Set(["swedencentral/gpt-4o-mini", "francecentral/gpt-4o-mini"]),
    );
  });
});

describe("why the defaults (README evidence)", function () {
  this.timeout(60_000);
  let rows: ComparisonRow[];
  before(async () => {
    rows = await compareDefaults();
  });
  const rate = (scenario: string, variant: string) =>
    rows.find((r) => r.scenario === scenario && r.variant === variant)!;

  it("honouring Retry-After keeps more clients served under saturation", () => {
    expect(rate("saturation", "defaults").successRate).to.be.above(
      rate("saturation", "Retry-After ignored").successRate,
    );
    expect(rate("regional-outage", "defaults").successRate).to.be.above(
      rate("regional-outage", "Retry-After ignored").successRate,
    );
  });

  it("a retry per remaining pool member and a breaker on 429 are what make PTU spill-over work", () => {
    expect(rate("ptu-spillover", "defaults").successRate).to.equal(1);
    expect(rate("ptu-spillover", "no gateway retry").successRate).to.be.below(0.9);
    expect(rate("ptu-spillover", "breaker ignores 429").successRate).to.be.below(0.9);
  });

  it("a breaker on 429 stops calling a backend blocked for a day", () => {
    expect(rate("retry-after-one-day", "breaker ignores 429").callsPerRequest).to.be.above(1.5);
    expect(rate("retry-after-one-day", "defaults").callsPerRequest).to.be.below(1.01);
  });

  it("is the table the README shows", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme, "refresh the README table with `npm run simulate -- --why-defaults`").to.contain(
      comparisonTable(rows),
    );
  });
});
