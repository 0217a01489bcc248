import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseScenario, simulate } from "../../simulator";
import type { GatewayModel } from "../../simulator/model";
import { PROJECT_ROOT } from "../projectRoot";
import type { VegaLiteSpec } from "./chart";
import { gatewayFor } from "./simulate";

/*
 * The evidence behind the defaults (the breaker honours Retry-After, the gateway retries pool size
 * minus one times on 429 and the transient 5xx codes, the breaker counts 429): every shipped
 * scenario, run with the defaults and with each default turned off.
 */

/** Each default turned off, as a change to the gateway the stack deploys. */
export const VARIANTS: { name: string; change: (model: GatewayModel) => GatewayModel }[] = [
  { name: "defaults", change: (m) => m },
  {
    name: "Retry-After ignored",
    change: (m) => ({ ...m, breaker: m.breaker && { ...m.breaker, acceptRetryAfter: false } }),
  },
  { name: "no gateway retry", change: (m) => ({ ...m, retry: { ...m.retry, count: 0 } }) },
  {
    name: "breaker ignores 429",
    change: (m) => ({ ...m, breaker: m.breaker && { ...m.breaker, statusRanges: [{ min: 500, max: 599 }] } }),
  },
  { name: "retry 429/503 only", change: (m) => ({ ...m, retry: { ...m.retry, statusCodes: [429, 503] } }) },
];

export const SCENARIOS = [
  "saturation",
  "bursts",
  "regional-outage",
  "ptu-spillover",
  "retry-after-one-day",
  "region-loss",
];

export interface ComparisonRow {
  scenario: string;
  variant: string;
  successRate: number;
  callsPerRequest: number;
}

export async function compareDefaults(scenarios: readonly string[] = SCENARIOS): Promise<ComparisonRow[]> {
  const rows: ComparisonRow[] = [];
  const gateways = new Map<string, GatewayModel>();
  for (const name of scenarios) {
    const scenario = parseScenario(
      parse(fs.readFileSync(path.join(PROJECT_ROOT, "scenarios", `${name}.yaml`), "utf8")),
    );
    const key = scenario.stackFile ?? "dev";
    if (!gateways.has(key)) gateways.set(key, (await gatewayFor({}, scenario)).model);
    const model = gateways.get(key)!;
    for (const variant of VARIANTS) {
      const result = simulate(variant.change(model), scenario);
      rows.push({
        scenario: name,
        variant: variant.name,
        successRate: result.successRate,
        callsPerRequest: result.callsPerRequest,
      });
    }
  }
  return rows;
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
        scale: { range: ["#2e7d32", "#ef6c00", "#1565c0", "#8e24aa", "#6d4c41"] },
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
