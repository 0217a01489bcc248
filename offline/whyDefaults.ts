import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseEngineConfig, type StackConfig } from "../components/config";
import { parseScenario, simulate } from "../simulator";
import type { VegaLiteSpec } from "./chart";
import { readStackFileAt } from "./stackFile";

/*
 * The evidence behind three defaults (the breaker honours Retry-After, the gateway retries pool size
 * minus one times, the breaker counts 429): every shipped scenario, run with the defaults and with
 * each default turned off.
 */

const ROOT = path.resolve(__dirname, "..");

export const VARIANTS: { name: string; change: (config: StackConfig) => StackConfig }[] = [
  { name: "defaults", change: (c) => c },
  {
    name: "Retry-After ignored",
    change: (c) => ({ ...c, circuitBreaker: { ...c.circuitBreaker, acceptRetryAfter: false } }),
  },
  { name: "no gateway retry", change: (c) => ({ ...c, retry: { ...c.retry, count: 0 } }) },
  {
    name: "breaker ignores 429",
    change: (c) => ({ ...c, circuitBreaker: { ...c.circuitBreaker, statusCodes: [{ min: 500, max: 599 }] } }),
  },
];

export const SCENARIOS = ["saturation", "bursts", "regional-outage", "ptu-spillover", "retry-after-one-day"];

export interface ComparisonRow {
  scenario: string;
  variant: string;
  successRate: number;
  callsPerRequest: number;
}

export function compareDefaults(scenarios: readonly string[] = SCENARIOS): ComparisonRow[] {
  return scenarios.flatMap((name) => {
    const scenario = parseScenario(parse(fs.readFileSync(path.join(ROOT, "scenarios", `${name}.yaml`), "utf8")));
    const config = parseEngineConfig(readStackFileAt(path.join(ROOT, scenario.stackFile ?? "Pulumi.dev.yaml")).config);
    return VARIANTS.map((variant) => {
      const result = simulate(variant.change(config), scenario);
      return {
        scenario: name,
        variant: variant.name,
        successRate: result.successRate,
        callsPerRequest: result.callsPerRequest,
      };
    });
  });
}

export function comparisonTable(rows: readonly ComparisonRow[]): string {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const header = `| scenario | ${VARIANTS.map((v) => v.name).join(" | ")} |`;
  const lines = scenarios.map((s) => {
    const cells = VARIANTS.map((v) => {
      const row = rows.find((r) => r.scenario === s && r.variant === v.name)!;
      return `${(row.successRate * 100).toFixed(1)} % (${row.callsPerRequest.toFixed(2)})`;
    });
    return `| ${s} | ${cells.join(" | ")} |`;
  });
  return [header, `| --- |${VARIANTS.map(() => " --- |").join("")}`, ...lines].join("\n");
}

export function comparisonSpec(rows: readonly ComparisonRow[]): VegaLiteSpec {
  const variants = VARIANTS.map((v) => v.name);
  const bars = (field: string, title: string) => ({
    width: { step: 22 },
    height: 200,
    mark: "bar",
    encoding: {
      column: { field: "scenario", type: "nominal", title: null, sort: SCENARIOS, header: { labelOrient: "bottom" } },
      x: { field: "variant", type: "nominal", sort: variants, axis: null },
      y: { field, type: "quantitative", title },
      color: {
        field: "variant",
        type: "nominal",
        sort: variants,
        title: null,
        scale: { range: ["#2e7d32", "#ef6c00", "#1565c0", "#8e24aa"] },
      },
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Why the defaults", subtitle: "simulated, npm run simulate -- --why-defaults" },
    data: { values: rows.map((r) => ({ ...r, successPercent: Math.round(r.successRate * 1000) / 10 })) },
    vconcat: [bars("successPercent", "clients served (%)"), bars("callsPerRequest", "backend calls per request")],
  };
}
