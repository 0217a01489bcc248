import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { availabilityOf } from "../../common/modelAvailability";
import { AZURE_REGIONS } from "../../common/regions";
import { simulate } from "../../simulator";
import { PROJECT_ROOT } from "../projectRoot";
import { runPlan } from "./plan";

/*
 * `npm run bench`: times the offline plan (a fresh `npm run plan` process per run, as a user runs
 * it) for the dev stack and for N = 2, 10, 30 instances x 3 models. A benchmark, not a test:
 * numbers depend on the machine, so nothing here fails on them; the targets are printed beside them.
 */

const ROOT = PROJECT_ROOT;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const BENCH_DEPLOYMENTS = [
  { name: "gpt-4o", model: "gpt-4o", version: "2024-11-20", sku: "GlobalStandard" as const, capacity: 50 },
  { name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard" as const, capacity: 100 },
  { name: "embeddings", model: "text-embedding-3-small", version: "1", sku: "GlobalStandard" as const, capacity: 120 },
];

/** A stack config with `n` instances spread over regions that offer its three model deployments. */
export function syntheticStack(n: number): Record<string, unknown> {
  const offered = AZURE_REGIONS.filter((region) =>
    BENCH_DEPLOYMENTS.every((d) => availabilityOf(d.model, d.version, d.sku, region).status === "available"),
  );
  const regions = offered.slice(0, Math.min(n, offered.length));
  return {
    config: {
      "azure-native:location": "swedencentral",
      "openai-apim:instances": Array.from({ length: n }, (_, i) => ({
        location: regions[i % regions.length],
        name: `instance-${i}`,
        priority: i < n / 2 ? 1 : 2,
      })),
      "openai-apim:deployments": BENCH_DEPLOYMENTS,
      "openai-apim:apim": { sku: "StandardV2", publisherEmail: "bench@contoso.com", publisherName: "Bench" },
    },
  };
}

interface Measurement {
  label: string;
  instances: number;
  resources: number;
  wallSeconds: number;
  peakRssMb: number;
}

function timePlan(label: string, instances: number, planArgs: string[], work: string): Measurement {
  const walls: number[] = [];
  let stats = { resources: 0, maxRssKb: 0 };
  for (let i = 0; i < RUNS; i++) {
    const statsFile = path.join(work, `stats-${label.replace(/\W/g, "_")}-${i}.json`);
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "offline/commands/plan.ts", ...planArgs, "--out", path.join(work, "out")],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, OPENAI_APIM_PLAN_STATS: statsFile },
      },
    );
    walls.push((performance.now() - started) / 1000);
    if (run.status !== 0) {
      throw new Error(`plan for ${label} failed:\n${run.stderr}`);
    }
    stats = JSON.parse(fs.readFileSync(statsFile, "utf8"));
  }
  walls.sort((a, b) => a - b);
  return {
    label,
    instances,
    resources: stats.resources,
    wallSeconds: walls[Math.floor(walls.length / 2)],
    peakRssMb: stats.maxRssKb / 1024,
  };
}

export function benchPlans(): Measurement[] {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "openai-apim-bench-"));
  const results = [timePlan("dev stack", 2, ["--stack", "dev"], work)];
  for (const n of [2, 10, 30]) {
    const file = path.join(work, `Pulumi.bench${n}.yaml`);
    fs.writeFileSync(file, stringify(syntheticStack(n)));
    results.push(timePlan(`N=${n} x 3 models`, n, ["--stack-file", file, "--stack", `bench${n}`], work));
  }
  fs.rmSync(work, { recursive: true, force: true });
  return results;
}

interface SimulatorMeasurement {
  label: string;
  clientRequests: number;
  backendCalls: number;
  wallSeconds: number;
  requestsPerSecond: number;
}

/** Simulator speed: simulated client requests per wall-clock second, median of RUNS, in this process. */
export async function benchSimulator(): Promise<SimulatorMeasurement[]> {
  const model = (await runPlan({ stack: "dev" })).model;
  const cases = [
    { label: "1 h, 100 req/min, outage", perMinute: 100, units: 1 },
    { label: "1 h, 1000 req/min, outage, 4 units", perMinute: 1000, units: 4 },
  ];
  return cases.map(({ label, perMinute, units }) => {
    const scenario = {
      durationSeconds: 3600,
      gatewayUnits: units,
      arrivals: { perMinute, pattern: "poisson" as const },
      request: { deployment: "gpt-4o-mini", promptTokens: 300, maxTokens: 200, completionTokens: 100 },
      faults: [{ backend: "swedencentral", fromSeconds: 600, toSeconds: 1200, status: 500 as const }],
    };
    simulate(model, scenario); // warm-up: JIT and module loading are not the model's speed
    const walls: number[] = [];
    let result = simulate(model, scenario);
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      result = simulate(model, scenario);
      walls.push((performance.now() - started) / 1000);
    }
    walls.sort((a, b) => a - b);
    const wallSeconds = walls[Math.floor(walls.length / 2)];
    return {
      label,
      clientRequests: result.clientRequests,
      backendCalls: Object.values(result.callsPerBackend).reduce((a, b) => a + b, 0),
      wallSeconds,
      requestsPerSecond: result.clientRequests / wallSeconds,
    };
  });
}

/** Wall time of one test command, run as CI runs it (a fresh process); its closing line included. */
export function timeTestCommand(script: string): { script: string; wallSeconds: number; summary: string } {
  const started = performance.now();
  const run = spawnSync("npm", ["run", "--silent", script], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const summary = /(\d+ passed, \d+ failed)\s*$/.exec(run.stdout)?.[1] ?? `exit code ${run.status}`;
  return { script, wallSeconds, summary };
}

function table(rows: Measurement[]): string {
  const header = ["case", "instances", "resources", "wall (s)", "peak RSS (MB)"];
  const cells = rows.map((r) => [
    r.label,
    String(r.instances),
    String(r.resources),
    r.wallSeconds.toFixed(2),
    r.peakRssMb.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  return [line(header), ...cells.map(line)].join("\n");
}

async function main(): Promise<void> {
  console.log(
    `Offline plan benchmark: median of ${RUNS} fresh processes of what \`npm run plan\` runs (node --import tsx offline/commands/plan.ts); ${os.cpus().length} cores, Node ${process.version}\n`,
  );
  const rows = benchPlans();
  console.log(table(rows));
  const dev = rows[0];
  const n2 = rows.find((r) => r.label.startsWith("N=2 "))!;
  const n30 = rows.find((r) => r.label.startsWith("N=30 "))!;
  console.log("");
  console.log(`dev stack plan: ${dev.wallSeconds.toFixed(2)} s (target < 2.5 s on 2 cores)`);
  console.log(`N=30 / N=2 wall time: ${(n30.wallSeconds / n2.wallSeconds).toFixed(2)}x (target < 2x)`);

  console.log("\nResilience simulator (dev stack, in process, median of the runs after a warm-up):\n");
  for (const s of await benchSimulator()) {
    console.log(
      `${s.label}: ${s.clientRequests} requests, ${s.backendCalls} backend calls in ${(s.wallSeconds * 1000).toFixed(0)} ms = ${Math.round(s.requestsPerSecond).toLocaleString("en-US")} simulated requests/s`,
    );
  }
  console.log("target: the 1-hour, 100 requests/min scenario under 1 s");

  if (process.env.BENCH_SKIP_TESTS) return;
  console.log("\nTest suites (fresh processes, as CI runs them):\n");
  for (const [script, target] of [
    ["test", "target < 40 s on 2 cores"],
    ["test:slow", "no target; runs in CI after the fast suite"],
  ] as const) {
    const t = timeTestCommand(script);
    console.log(`npm run ${script}: ${t.wallSeconds.toFixed(1)} s (${t.summary}; ${target})`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
