import type { DeploymentCapacity } from "../components/capacity";
import type { StackConfig } from "../components/config";
import type { RecordedResource } from "./mockRuntime";
import { describeProbe, resilienceProbe, type ResilienceProbe } from "./resilienceProbe";
import { planWarnings, plannedCapacity, topologyOf, type Topology } from "./topology";

/** Everything the plan knows, as written to plan.json. */
export interface PlanDocument {
  stack: string;
  project: string;
  note: string;
  resourceCounts: Record<string, number>;
  resources: { type: string; name: string; parent: string; dependsOn: string[]; inputs: Record<string, unknown> }[];
  capacity: DeploymentCapacity[];
  /** The resilience model's answer to one standard outage (see offline/resilienceProbe.ts). */
  resilience?: ResilienceProbe;
  warnings: string[];
}

export const PLACEHOLDER_NOTE =
  "Offline plan: the real program ran under Pulumi's mock runtime. Values Azure computes (resource ids, " +
  "endpoints, keys, principal ids) and random name suffixes are placeholders; everything else is what " +
  "`pulumi up` would send.";

const logicalName = (urn: string) => urn.split("::").pop() ?? urn;

/** Warnings whose risk the outage simulation quantifies. */
const OUTAGE_WARNINGS = /^(Single region|Circuit breaker disabled|Retry count is 0|All \d+ instances share)/;

export function buildPlan(
  resources: readonly RecordedResource[],
  stack: string,
  config?: StackConfig,
  project = "openai-apim",
) {
  const topology = topologyOf(resources);
  const resilience = config ? resilienceProbe(config) : undefined;
  const sorted = [...resources].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  const resourceCounts: Record<string, number> = {};
  for (const r of sorted) {
    resourceCounts[r.type] = (resourceCounts[r.type] ?? 0) + 1;
  }
  const plan: PlanDocument = {
    stack,
    project,
    note: PLACEHOLDER_NOTE,
    resourceCounts,
    resources: sorted.map((r) => ({
      type: r.type,
      name: r.name,
      parent: r.parent ? logicalName(r.parent) : "",
      dependsOn: r.dependencies.map(logicalName).sort(),
      inputs: r.inputs,
    })),
    capacity: plannedCapacity(topology),
    resilience,
    warnings: planWarnings(topology, stack).map((warning) =>
      resilience && !resilience.skipped && OUTAGE_WARNINGS.test(warning)
        ? `${warning} Simulated: ${describeProbe(resilience)}.`
        : warning,
    ),
  };
  return { plan, topology };
}

const num = (n: number | undefined) => (n === undefined ? "unknown" : n.toLocaleString("en-US"));
const ranges = (codes: { min: number; max: number }[]) =>
  codes.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(", ");

/** The human-readable summary printed by `npm run plan`. */
export function summarize(plan: PlanDocument, topology: Topology, artifactsDir?: string): string {
  const lines: string[] = [];
  const total = plan.resources.length;
  lines.push(`Offline plan for stack "${plan.stack}" (project ${plan.project}): ${total} resources`);
  lines.push(`Note: ${plan.note}`, "");

  lines.push("Resources by type:");
  const width = Math.max(...Object.keys(plan.resourceCounts).map((t) => t.length));
  for (const [type, count] of Object.entries(plan.resourceCounts)) {
    lines.push(`  ${type.padEnd(width)}  ${count}`);
  }

  lines.push("", `OpenAI instances (${topology.instances.length}):`);
  for (const instance of topology.instances) {
    lines.push(
      `  ${instance.accountName}  region ${instance.location}  priority ${instance.priority ?? "-"}  weight ${instance.weight ?? "-"}`,
    );
    for (const d of instance.deployments) {
      lines.push(`    ${d.name}: ${d.model} ${d.version}, ${d.sku}, capacity ${d.capacity}`);
    }
  }

  if (topology.pool) {
    lines.push(
      "",
      `Backend pool ${topology.pool.backendId} (${topology.pool.members.length} members; lower priority number first):`,
    );
    const byPriority = new Map<number, string[]>();
    for (const m of topology.pool.members) {
      byPriority.set(m.priority, [...(byPriority.get(m.priority) ?? []), `${m.backendId} (weight ${m.weight})`]);
    }
    for (const [priority, members] of [...byPriority].sort(([a], [b]) => a - b)) {
      lines.push(`  priority ${priority}: ${members.join(", ")}`);
    }
  }
  const breakers = Object.values(topology.breakers);
  const breaker = breakers.find((b) => b !== undefined);
  if (breaker) {
    const threshold =
      breaker.failureCount !== undefined
        ? `${breaker.failureCount} failure(s)`
        : `${breaker.failurePercentage}% failures`;
    lines.push(
      `Circuit breaker (per backend): trips after ${threshold} within ${breaker.interval} on ${ranges(breaker.statusCodes)}; ` +
        `open for ${breaker.tripDuration}${breaker.acceptRetryAfter ? " or as long as the backend's Retry-After asks" : ""}`,
    );
  } else if (breakers.length > 0) {
    lines.push("Circuit breaker: none");
  }
  if (topology.retry) {
    lines.push(
      topology.retry.count > 0
        ? `Gateway retry: up to ${topology.retry.count} on ${topology.retry.statusCodes.join(", ")}, each attempt re-picks from the pool (interval ${topology.retry.intervalSeconds} s${topology.retry.firstFastRetry ? ", first retry immediate" : ""})`
        : "Gateway retry: none",
    );
  }
  if (topology.gateway && topology.api) {
    lines.push(
      "",
      `Gateway: APIM ${topology.gateway.sku} x${topology.gateway.capacity}, endpoint ${topology.gateway.gatewayUrl}/${topology.api.path} ` +
        `(name is a placeholder: gateway-<random suffix>)`,
      `  API ${topology.api.path}: ${topology.api.protocols.join("/")} only, subscription ${topology.api.subscriptionRequired ? "required" : "NOT required"} (api-key header), imported as ${topology.api.format}`,
      `  Monitoring: ${topology.monitoring.workspace ? "new Log Analytics workspace, " : ""}${topology.monitoring.appInsights ? "new Application Insights, " : ""}${topology.monitoring.diagnosticSettings} diagnostic settings, token metrics ${topology.monitoring.tokenMetric ? "on" : "off"}${topology.monitoring.tokenLimit ? `, token limit ${num(topology.monitoring.tokenLimit)}/min per subscription` : ""}`,
    );
  }

  lines.push("", "Capacity per deployment (all instances; N-1 = without the largest):");
  for (const c of plan.capacity) {
    lines.push(
      `  ${c.deployment} (${c.model}): ${num(c.tokensPerMinute)} TPM, ${num(c.requestsPerMinute)} RPM; ` +
        `N-1 without ${c.largestInstance}: ${num(c.tokensPerMinuteNMinus1)} TPM, ${num(c.requestsPerMinuteNMinus1)} RPM`,
    );
  }

  if (plan.resilience) {
    lines.push("", `Resilience (simulated; npm run simulate for more): ${describeProbe(plan.resilience)}`);
  }

  lines.push("", plan.warnings.length ? `Warnings (${plan.warnings.length}):` : "Warnings: none");
  for (const warning of plan.warnings) {
    lines.push(`  - ${warning}`);
  }
  if (artifactsDir) {
    lines.push("", `Artifacts in ${artifactsDir}: plan.json, policy.xml, openapi.json, architecture.md`);
  }
  return lines.join("\n") + "\n";
}

const id = (text: string) => text.replace(/[^A-Za-z0-9_]/g, "_");

/** A Mermaid flowchart of the planned resources. */
export function architectureMarkdown(plan: PlanDocument, topology: Topology): string {
  const lines = ["flowchart LR", '  client(["Clients<br/>Azure OpenAI SDKs"])'];
  const gateway = topology.gateway;
  if (gateway && topology.api) {
    lines.push(`  subgraph apim["APIM ${gateway.sku} x${gateway.capacity}: ${gateway.serviceName}"]`);
    lines.push(`    api["API /${topology.api.path}<br/>managed identity, retry ${topology.retry?.count ?? 0}"]`);
    if (topology.pool) {
      lines.push(`    pool{{"pool ${topology.pool.backendId}"}}`, "    api --> pool");
      for (const m of topology.pool.members) {
        const breaker = topology.breakers[m.backendId] ? "breaker" : "no breaker";
        lines.push(`    ${id(m.backendId)}["${m.backendId}<br/>${breaker}"]`);
        lines.push(`    pool -- "p${m.priority} w${m.weight}" --> ${id(m.backendId)}`);
      }
    }
    lines.push("  end", "  client -- api-key --> api");
  }
  for (const instance of topology.instances) {
    const deployments = instance.deployments.map((d) => `${d.name}: ${d.sku} ${d.capacity}`).join("<br/>");
    lines.push(
      `  ${id(instance.accountName)}[("${instance.accountName}<br/>${instance.location}<br/>${deployments}")]`,
    );
    if (instance.backendId) {
      lines.push(`  ${id(instance.backendId)} -- Entra ID --> ${id(instance.accountName)}`);
    }
  }
  if (topology.monitoring.diagnosticSettings > 0) {
    lines.push('  logs[("Log Analytics +<br/>Application Insights")]', "  apim -.-> logs");
  }
  return [
    `# Architecture of stack "${plan.stack}"`,
    "",
    "Generated by `npm run plan` from the resources the program registers (names with random suffixes are placeholders).",
    "",
    "```mermaid",
    ...lines,
    "```",
    "",
  ].join("\n");
}

/** The API definition file: the inline document as imported, or a pointer to the imported link. */
export function openApiArtifact(topology: Topology): string {
  if (!topology.openApi) {
    return "{}\n";
  }
  return topology.openApi.format === "openapi+json-link"
    ? JSON.stringify({ importedFromLink: topology.openApi.value }, null, 2) + "\n"
    : topology.openApi.value;
}
