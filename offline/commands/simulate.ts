import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { sameName } from "../../common/azureOpenAi";
import { DEFAULT_PARAMETERS, parseScenario, simulate, type Scenario, type SimulationResult } from "../../simulator";
import type { GatewayModel } from "../../simulator/model";
import { PROJECT_ROOT } from "../projectRoot";
import { StackFileError } from "../runtime/stackFile";
import { renderSvg, timelineSpec } from "./chart";
import { reportUserErrors, runMain, usage } from "./cli";
import { runPlan } from "./plan";
import { compareDefaults, comparisonSpec, comparisonTable } from "./whyDefaults";

const USAGE = `Usage: npm run simulate -- --scenario <file> [--stack <name> | --stack-file <path>] [--out <dir>] [--json]
       npm run simulate -- --why-defaults [--out <dir>]

Predicts what clients would see for a stack's gateway under a scenario (load, faults), with the
resilience model in simulator/. Writes report.json and chart.svg.

  --scenario <file>    a scenario (YAML or JSON), e.g. scenarios/regional-outage.yaml
  --stack <name>       use Pulumi.<name>.yaml (default: the scenario's stackFile, else dev)
  --stack-file <path>  use this stack file
  --out <dir>          where to write report.json and chart.svg (default: reports/<scenario>/)
  --json               print the result as JSON instead of the report
  --why-defaults       run every shipped scenario with the defaults and with each turned off;
                       print a table and write why-defaults.svg (default folder: docs/)
`;

interface CliArgs {
  scenario?: string;
  whyDefaults?: boolean;
  stack?: string;
  stackFile?: string;
  out?: string;
  json: boolean;
}

export function parseCliArgs(argv: readonly string[]): CliArgs | string {
  const args: Partial<CliArgs> & { json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const needsValue = ["--scenario", "--stack", "--stack-file", "--out"].includes(flag);
    if (needsValue && (value === undefined || value.startsWith("--"))) return `${flag} needs a value\n\n${USAGE}`;
    if (flag === "--scenario") args.scenario = value;
    else if (flag === "--stack") args.stack = value;
    else if (flag === "--stack-file") args.stackFile = value;
    else if (flag === "--out") args.out = value;
    else if (flag === "--json") args.json = true;
    else if (flag === "--why-defaults") args.whyDefaults = true;
    else if (flag === "--help" || flag === "-h") return USAGE;
    else return `Unknown argument ${flag}\n\n${USAGE}`;
    if (needsValue) i++;
  }
  if (!args.scenario && !args.whyDefaults) return `--scenario is required\n\n${USAGE}`;
  return args as CliArgs;
}

/** Reads a scenario file (YAML or JSON). */
export function readScenario(file: string): unknown {
  try {
    return parse(fs.readFileSync(file, "utf8"), { merge: true });
  } catch (err) {
    throw new StackFileError(`Cannot read scenario ${file}: ${(err as Error).message}`);
  }
}

/**
 * The gateway a scenario runs against, as the program would deploy it for --stack-file, --stack, the
 * scenario's stackFile, or dev.
 */
export async function gatewayFor(
  args: { stack?: string; stackFile?: string },
  scenario: Pick<Scenario, "stackFile">,
): Promise<{ name: string; model: GatewayModel }> {
  if (args.stackFile) {
    return {
      name: path.basename(args.stackFile),
      model: (await runPlan({ stack: "stack", stackFile: args.stackFile })).model,
    };
  }
  if (!args.stack && scenario.stackFile) {
    const file = path.resolve(PROJECT_ROOT, scenario.stackFile);
    return { name: scenario.stackFile, model: (await runPlan({ stack: "stack", stackFile: file })).model };
  }
  const name = args.stack ?? "dev";
  return { name: `Pulumi.${name}.yaml`, model: (await runPlan({ stack: name })).model };
}

const n = (x: number) => x.toLocaleString("en-US");
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The readable report printed by `npm run simulate`. */
export function formatReport(
  result: SimulationResult,
  scenario: Scenario,
  stackName: string,
  model: GatewayModel,
): string {
  const lines: string[] = [];
  const deployments = [...new Set(scenario.streams.map((s) => s.deployment))];
  lines.push(`Resilience simulation of ${stackName} (${deployments.join(", ")}), ${result.durationSeconds} s`);
  if (scenario.description) lines.push(`  ${scenario.description.trim()}`);
  for (const deployment of deployments) {
    const pool = model.pools.find((p) => sameName(p.deployment, deployment));
    lines.push("", `Pool of ${deployment} (${pool?.members.length ?? 0} members):`);
    for (const m of pool?.members ?? []) {
      lines.push(`  ${m.name}: priority ${m.priority}, weight ${m.weight}, ${m.sku} capacity ${m.capacity}`);
    }
  }
  const b = model.breaker;
  lines.push(
    b
      ? `Breaker per unit: ${b.failureCount !== undefined ? `${b.failureCount} failure(s)` : `${b.failurePercentage} % failures`} in ${b.intervalMs / 1000} s, open ${b.tripDurationMs / 1000} s${b.acceptRetryAfter ? " or the backend's Retry-After" : ""}`
      : "Breaker: disabled",
    `Gateway retry: ${result.retryPolicy.count} on ${result.retryPolicy.statusCodes.join(", ")}; ${result.gatewayUnits} gateway unit(s)${model.regions && model.regions.length > 1 ? ` in ${model.regions.map((r) => `${r.name} (${r.units})`).join(", ")}` : ""}; client retries: ${scenario.clientRetries}`,
    `Load: ${scenario.streams.map((s) => `${s.name} ${s.arrivals.perMinute} requests/min (${s.arrivals.pattern})`).join(", ")}; ${n(result.capacity.offeredTokensPerMinute)} tokens/min offered against ${n(result.capacity.tokensPerMinute)} TPM`,
  );
  const changed = Object.entries(scenario.parameters).filter(
    ([key, value]) =>
      JSON.stringify(value) !== JSON.stringify(DEFAULT_PARAMETERS[key as keyof typeof DEFAULT_PARAMETERS]),
  );
  if (changed.length)
    lines.push(`Model parameters changed: ${changed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`);

  lines.push(
    "",
    `Clients: ${n(result.clientRequests)} requests, ${pct(result.successRate)} succeeded`,
    `  final status: ${Object.entries(result.statusCounts)
      .map(([code, count]) => `${code} x${n(count)}`)
      .join(", ")}`,
    `  latency: p50 ${n(result.latencyMs.p50)} ms, p95 ${n(result.latencyMs.p95)} ms`,
    `  throughput: ${pct(result.throughputFraction)} of what the deployments could serve`,
    `  backend calls per request: ${result.callsPerRequest} (${Object.entries(result.callsPerBackend)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(", ")})`,
    `  breaker trips: ${Object.entries(result.breakerTrips)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  if (scenario.streams.length > 1) {
    for (const [name, stream] of Object.entries(result.streams)) {
      lines.push(
        `  ${name} (${stream.deployment}): ${n(stream.clientRequests)} requests, ${pct(stream.successRate)} succeeded, p95 ${n(stream.latencyMs.p95)} ms`,
      );
    }
  }
  for (const [name, team] of Object.entries(result.teams)) {
    const refused = team.refusedAtGateway;
    const wait = team.retryAfterMs
      ? `, Retry-After ${n(Math.ceil(team.retryAfterMs.min / 1000))}-${n(Math.ceil(team.retryAfterMs.max / 1000))} s`
      : "";
    lines.push(
      `  team ${name}: ${n(team.clientRequests)} requests, ${pct(team.successRate)} succeeded; refused at the gateway: ${n(refused.tokenRate)} over its token rate (429${wait}), ${n(refused.tokenQuota)} over its quota, ${n(refused.deployment)} for a deployment it may not call`,
    );
  }
  if (result.faultWindows.length) {
    lines.push("Faults:");
    for (const w of result.faultWindows) {
      const failover =
        w.failoverMs === null
          ? "not every gateway unit failed over"
          : `every gateway unit failed over after ${n(w.failoverMs)} ms (${w.backendFailuresBeforeFailover} failed backend calls before)`;
      const byStream =
        scenario.streams.length > 1
          ? ` (${Object.entries(w.successRateByStream)
              .map(([name, rate]) => `${name} ${pct(rate)}, p95 ${n(w.latencyMsByStream[name].p95)} ms`)
              .join("; ")})`
          : "";
      lines.push(
        `  ${w.backend ? `${w.backend}${w.deployment ? `/${w.deployment}` : ""}` : w.zone ? `zone ${w.zone}${w.region ? ` of ${w.region}` : ""}` : `region ${w.region}`} ${w.status} from ${w.fromSeconds} s to ${w.toSeconds} s: ${w.requests} requests, ${pct(w.successRate)} succeeded${byStream}; ${failover}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (typeof args === "string") {
    return usage(args, USAGE);
  }
  if (args.whyDefaults) {
    const rows = await compareDefaults();
    const dir = args.out ?? "docs";
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "why-defaults.svg"), await renderSvg(comparisonSpec(rows)));
    process.stdout.write(
      `Clients served (backend calls per request):\n\n${comparisonTable(rows)}\n\nWrote ${path.join(dir, "why-defaults.svg")}\n`,
    );
    return 0;
  }
  const run = await reportUserErrors(async () => {
    const scenario = parseScenario(readScenario(args.scenario!));
    const stack = await gatewayFor(args, scenario);
    return { scenario, stack, result: simulate(stack.model, scenario) };
  });
  if (!run) {
    return 1;
  }
  const { scenario, stack, result } = run;
  const name = path.basename(args.scenario!).replace(/\.(ya?ml|json)$/, "");
  const dir = args.out ?? path.join("reports", name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify(result, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "chart.svg"), await renderSvg(timelineSpec(result, `${name} on ${stack.name}`)));
  process.stdout.write(
    args.json
      ? JSON.stringify(result, null, 2) + "\n"
      : formatReport(result, scenario, stack.name, stack.model) +
          `\nWrote ${path.join(dir, "report.json")} and ${path.join(dir, "chart.svg")}\n`,
  );
  return 0;
}

if (require.main === module) {
  runMain(main);
}
