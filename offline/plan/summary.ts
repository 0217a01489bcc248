import { teamLoad, type DeploymentCapacity } from "../../common/capacity";
import type { RoutedOperation } from "../../common/operationRouting";
import { clientEndpoint } from "../../components/apimGatewayArgs";
import { gatewaySurvivesAnOutage } from "../../policy-pack/policies";
import type { PlanResult } from "./plan";
import { artifactFiles } from "./artifacts";
import { describeOperations } from "./operations";
import { describeProbe } from "./resilienceProbe";
import { poolMembers, type PlannedTeam, type Topology } from "./topology";

const num = (n: number | undefined) => (n === undefined ? "unknown" : n.toLocaleString("en-US"));
const ranges = (codes: { min: number; max: number }[]) =>
  codes.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(", ");

/** The human-readable summary printed by `npm run plan`. */
export function summarize({ plan, topology, operations }: PlanResult, artifactsDir?: string): string {
  const lines: string[] = [];
  lines.push(`Offline plan for stack "${plan.stack}" (project ${plan.project}): ${plan.resources.length} resources`);
  lines.push(`Note: ${plan.note}`, "");

  lines.push("Resources by type:");
  const width = Math.max(...Object.keys(plan.resourceCounts).map((t) => t.length));
  for (const [type, count] of Object.entries(plan.resourceCounts)) {
    lines.push(`  ${type.padEnd(width)}  ${count}`);
  }

  lines.push("", `OpenAI instances (${topology.instances.length}):`);
  for (const instance of topology.instances) {
    lines.push(`  ${instance.accountName}  region ${instance.location}`);
    for (const d of instance.deployments) {
      lines.push(`    ${d.name}: ${d.model} ${d.version}, ${d.sku}, capacity ${d.capacity}`);
    }
  }

  for (const pool of topology.pools) {
    lines.push(
      "",
      `Backend pool ${pool.backendId} (${pool.members.length} members; lower priority number first):`,
    );
    const byPriority = new Map<number, string[]>();
    for (const m of pool.members) {
      byPriority.set(m.priority, [...(byPriority.get(m.priority) ?? []), `${m.backendId} (weight ${m.weight})`]);
    }
    for (const [priority, members] of [...byPriority].sort(([a], [b]) => a - b)) {
      lines.push(`  priority ${priority}: ${members.join(", ")}`);
    }
  }
  const breaker = topology.backends.find((b) => b.breaker)?.breaker;
  if (breaker) {
    const threshold =
      breaker.failureCount !== undefined
        ? `${breaker.failureCount} failure(s)`
        : `${breaker.failurePercentage}% failures`;
    lines.push(
      `Circuit breaker (per backend): trips after ${threshold} within ${breaker.interval} on ${ranges(breaker.statusCodes)}; ` +
        `open for ${breaker.tripDuration}${breaker.acceptRetryAfter ? " or as long as the backend's Retry-After asks" : ""}`,
    );
  } else if (topology.backends.length > 0) {
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
    const m = topology.monitoring;
    lines.push(
      "",
      `Gateway: APIM ${topology.gateway.sku} x${topology.gateway.capacity}, Azure endpoint for clients ${clientEndpoint(topology.gateway.gatewayUrl, topology.api.path)} ` +
        `(API at /${topology.api.path}; the name is a placeholder: gateway-<random suffix>)`,
      `  Service: enableClientCertificate ${topology.gateway.sent.enableClientCertificate === undefined ? "not sent (Azure refuses false on the Developer tier; its default applies)" : `sent as ${String(topology.gateway.sent.enableClientCertificate)}`}`,
      `  API ${topology.api.path}: ${topology.api.protocols.join("/")} only, imported as ${topology.api.format}`,
      `  Callers: ${describeCallers(topology.callerAuth)}`,
      ...describeRoutes(topology.operations),
      `  Monitoring: ${m.workspace ? "new Log Analytics workspace, " : ""}${m.appInsights ? "new Application Insights, " : ""}${m.diagnosticSettings} diagnostic settings, token metrics ${m.tokenMetric ? "on" : "off"}${m.tokenLimit ? `, token limit ${num(m.tokenLimit)}/min per caller` : ""}`,
    );
  }

  lines.push("", "Capacity per deployment (members of its pool; N-1 = without the largest):");
  for (const c of plan.capacity) {
    lines.push(
      `  ${c.deployment} (${c.model}): ${num(c.tokensPerMinute)} TPM, ${num(c.requestsPerMinute)} RPM; ` +
        `N-1 without ${c.largestInstance}: ${num(c.tokensPerMinuteNMinus1)} TPM, ${num(c.requestsPerMinuteNMinus1)} RPM`,
    );
  }

  lines.push(...describeRegions(topology));
  lines.push(...describeTeams(topology.teams, plan.capacity));
  lines.push(...describeNetwork(topology));
  lines.push(...describeOperations(operations));

  if (plan.resilience) {
    lines.push("", `Resilience (simulated; npm run simulate for more): ${describeProbe(plan.resilience)}`);
  }

  const pack = plan.policyPack;
  lines.push(
    "",
    pack.length
      ? `Policy pack (${pack.filter((v) => v.enforcementLevel === "mandatory").length} mandatory, ${pack.filter((v) => v.enforcementLevel !== "mandatory").length} advisory; pulumi preview --policy-pack policy-pack applies the same rules):`
      : "Policy pack: no violations",
  );
  for (const v of pack) {
    lines.push(`  - [${v.enforcementLevel}] ${v.policy}: ${v.message}${v.simulated ? ` Simulated: ${v.simulated}.` : ""}`);
  }
  lines.push("", plan.warnings.length ? `Plan checks (${plan.warnings.length}):` : "Plan checks: nothing to report");
  for (const warning of plan.warnings) {
    lines.push(`  - ${warning}`);
  }
  if (artifactsDir) {
    lines.push("", `Artifacts in ${artifactsDir}: ${artifactFiles(operations).join(", ")}`);
  }
  return lines.join("\n") + "\n";
}

/** Who may call, in one line. */
export function describeCallers(auth: Topology["callerAuth"]): string {
  const parts: string[] = [];
  if (auth.subscriptionKey) parts.push("subscription key as the api-key header");
  const entra = auth.entraId;
  if (entra) {
    const apps = entra.clientIds.length ? `applications ${entra.clientIds.join(", ")}` : "any application";
    const when = entra.applies === "without-key" ? " (requests without a key)" : entra.applies === "other" ? " (some requests)" : "";
    parts.push(`Entra ID bearer tokens${when} from tenant ${entra.tenantId ?? "?"}, audience ${entra.audiences.join(" or ")}, ${apps}`);
  }
  return parts.length ? parts.join("; or ") : "NOBODY (no subscription key and no token validation)";
}

const ROUTE_KINDS: Record<RoutedOperation["routing"], string> = {
  path: "deployment in the path -> its pool",
  body: "model in the JSON body -> its pool",
  "response-create": "model in the body -> its accounts; with previous_response_id -> the account storing it",
  response: "the account storing the response",
  gateway: "answered by the gateway",
};

/** The operations clients can call, grouped by how the policy routes them. */
export function describeRoutes(operations: readonly RoutedOperation[]): string[] {
  if (operations.length === 0) return [];
  const lines = [`  Routes (${operations.length} operations):`];
  for (const kind of Object.keys(ROUTE_KINDS) as RoutedOperation["routing"][]) {
    const ops = operations.filter((o) => o.routing === kind);
    if (ops.length) {
      lines.push(`    ${ROUTE_KINDS[kind]}: ${ops.map((o) => `${o.method.toUpperCase()} ${o.path}`).join(", ")}`);
    }
  }
  return lines;
}

/** Each team's rules, and per deployment what the teams allowed on it may draw against what it serves. */
export function describeTeams(teams: readonly PlannedTeam[], capacity: readonly DeploymentCapacity[]): string[] {
  if (teams.length === 0) return [];
  const lines = [
    "",
    `Teams (${teams.length}; keys: pulumi stack output teamSubscriptionKeys --show-secrets):`,
  ];
  for (const t of teams) {
    const limits = [
      t.tokensPerMinute ? `${num(t.tokensPerMinute)} TPM` : "no rate limit",
      t.tokenQuota ? `${num(t.tokenQuota.tokens)} tokens ${t.tokenQuota.period.toLowerCase()}` : "",
    ].filter(Boolean);
    const access = [t.product ? "subscription key" : "", t.entraClientIds.length ? `Entra ID apps ${t.entraClientIds.join(", ")}` : ""]
      .filter(Boolean)
      .join(" and ");
    lines.push(
      `  ${t.name}${t.displayName && t.displayName !== t.name ? ` (${t.displayName})` : ""}: ${t.deployments ? t.deployments.join(", ") : "every deployment"}; ${limits.join(", ")}; ${access}`,
    );
  }
  for (const load of teamLoad(teams, capacity)) {
    if (load.teams.length === 0) continue;
    const drawn = load.unlimitedTeams.length ? "unbounded" : `${num(load.teamTokensPerMinute)} TPM`;
    lines.push(`  ${load.deployment}: teams ${load.teams.join(", ")} may draw ${drawn} of ${num(load.tokensPerMinute)} TPM`);
  }
  return lines;
}

/** The network: what is created or used, how the gateway sits in it, and what stays public. */
export function describeNetwork(topology: Topology): string[] {
  const closed = topology.accountAccess.filter((a) => a.publicNetworkAccess === "Disabled").map((a) => a.instance);
  const open = topology.accountAccess.filter((a) => a.publicNetworkAccess !== "Disabled").map((a) => a.instance);
  const net = topology.network;
  if (!net) {
    return ["", `Network: public (gateway and ${open.length} OpenAI account(s) reachable from the internet; keys off, Entra ID only)`];
  }
  const sku = topology.gateway?.sku ?? "";
  const how =
    sku === "StandardV2"
      ? "outbound VNet integration (the gateway stays public; calls to the accounts go through the network)"
      : `VNet injection, ${net.virtualNetworkType === "Internal" ? "internal: clients reach the gateway only from inside the network" : "external: clients reach the gateway from the internet"}`;
  const lines = ["", `Network: private; the ${sku} gateway by ${how}`];
  for (const vnet of net.virtualNetworks) {
    lines.push(`  Virtual network ${vnet.addressSpace.join(", ")}${vnet.location ? ` in ${vnet.location}` : ""} (created)`);
    for (const sn of vnet.subnets) {
      lines.push(
        `    subnet ${sn.name} ${sn.prefix}${sn.delegation ? `, delegated to ${sn.delegation}` : ""}${sn.securityRules ? `, NSG with ${sn.securityRules} rules` : ""}`,
      );
    }
  }
  if (net.existingSubnets.length) lines.push(`  Existing subnets: ${net.existingSubnets.join(", ")}`);
  const byLocation = new Map<string, string[]>();
  for (const e of net.privateEndpoints) {
    const key = e.location ?? "(gateway region)";
    byLocation.set(key, [...(byLocation.get(key) ?? []), e.instance ?? e.name]);
  }
  const groups = [...new Set(net.privateEndpoints.flatMap((e) => e.groupIds))].join(", ") || "-";
  for (const [location, names] of byLocation) {
    lines.push(`  Private endpoints in ${location} (group ${groups}): ${names.join(", ")}`);
  }
  if (byLocation.size === 0) lines.push("  Private endpoints: none");
  for (const zone of net.dnsZones) {
    lines.push(
      zone.created ? `  DNS: ${zone.name} (created, ${zone.links} network link(s))` : `  DNS: existing zone ${zone.name}`,
    );
  }
  lines.push(
    `  Public: ${net.virtualNetworkType === "Internal" ? "nothing of the gateway" : "the gateway endpoint"}; OpenAI accounts ${closed.length ? `closed (${closed.join(", ")})` : ""}${open.length ? ` OPEN: ${open.join(", ")}` : ""}`,
  );
  return lines;
}

/** The regions with gateway units, and the order in which each one tries the instances. */
export function describeRegions(topology: Topology): string[] {
  const regions = topology.gatewayRegions;
  if (regions.length === 0) return [];
  const describe = (r: (typeof regions)[number]) =>
    `${r.units} unit(s), ${r.zones ? `zones ${r.zones.join(", ")}` : "no zones"}`;
  if (regions.length === 1) {
    // The pack's rule (gateway-survives-zone-or-region), so the plan and the pack never disagree.
    const survives = gatewaySurvivesAnOutage({ zones: regions[0].zones ?? [] });
    return ["", `Gateway region: ${regions[0].location}, ${describe(regions[0])}${survives ? "" : " (one region, fewer than two zones: a zone or region outage stops the gateway)"}`];
  }
  const lines = ["", `Gateway regions (${regions.length}; the global endpoint sends each client to the nearest, or use regionalGatewayUrls):`];
  regions.forEach((region, i) => {
    lines.push(`  ${region.location}${i === 0 ? " (primary)" : ""}: ${describe(region)}${region.regionalUrl ? `, ${region.regionalUrl}` : ""}`);
    for (const route of topology.routes) {
      const poolId = (i > 0 && route.byRegion?.[region.location]) || route.poolId;
      const pool = topology.pools.find((p) => p.backendId === poolId);
      if (!pool) continue;
      const members = poolMembers(topology, pool);
      const tiers = [...new Set(members.map((m) => m.priority))].sort((a, b) => a - b);
      const order = tiers
        .map((tier) => members.filter((m) => m.priority === tier).map((m) => m.instance?.name ?? m.backendId).join(", "))
        .join(" > ");
      lines.push(`    ${route.deployment}: ${order}`);
    }
  });
  return lines;
}
