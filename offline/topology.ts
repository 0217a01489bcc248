import { XMLParser } from "fast-xml-parser";
import { capacityByDeployment, isProvisioned, type DeploymentCapacity } from "../components/capacity";
import type { DeploymentSku } from "../components/config";
import { ofType, type RecordedResource } from "./mockRuntime";

/*
 * What a set of recorded registrations describes, read back from the resources themselves (not from
 * the config), so the plan shows what would be sent to Azure.
 */

export interface PlannedDeployment {
  name: string;
  model: string;
  version: string;
  sku: DeploymentSku;
  capacity: number;
}

export interface PlannedInstance {
  /** Logical name of the account resource. */
  resource: string;
  accountName: string;
  location: string;
  endpoint: string;
  /** Pool membership; undefined when no pool member points at this account. */
  priority?: number;
  weight?: number;
  backendId?: string;
  deployments: PlannedDeployment[];
}

export interface PlannedBreaker {
  failureCount?: number;
  failurePercentage?: number;
  interval: string;
  tripDuration: string;
  statusCodes: { min: number; max: number }[];
  acceptRetryAfter: boolean;
}

export interface PlannedRetry {
  count: number;
  statusCodes: number[];
  intervalSeconds: number;
  firstFastRetry: boolean;
}

export interface Topology {
  instances: PlannedInstance[];
  pool?: { backendId: string; members: { backendId: string; priority: number; weight: number }[] };
  /** Breaker of each Single backend by backend id (undefined: none). */
  breakers: Record<string, PlannedBreaker | undefined>;
  retry?: PlannedRetry;
  api?: { path: string; format: string; protocols: string[]; subscriptionRequired: boolean };
  gateway?: { serviceName: string; sku: string; capacity: number; location?: string; gatewayUrl: string };
  policyXml?: string;
  /** The API definition exactly as it would be imported (inline JSON text or a link). */
  openApi?: { format: string; value: string };
  monitoring: {
    workspace: boolean;
    appInsights: boolean;
    diagnosticSettings: number;
    tokenMetric: boolean;
    tokenLimit?: number;
  };
}

const get = (r: RecordedResource, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], r.inputs);

/** Reads retry settings back out of a rendered API policy. */
export function retryFromPolicy(xml: string): PlannedRetry {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as {
    policies?: { backend?: { retry?: Record<string, string> } };
  };
  const retry = doc.policies?.backend?.retry;
  if (!retry) {
    return { count: 0, statusCodes: [], intervalSeconds: 0, firstFastRetry: false };
  }
  return {
    count: Number(retry.count),
    statusCodes: [...String(retry.condition).matchAll(/StatusCode == (\d+)/g)].map((m) => Number(m[1])),
    intervalSeconds: Number(retry.interval),
    firstFastRetry: retry["first-fast-retry"] === "true",
  };
}

export function topologyOf(resources: readonly RecordedResource[]): Topology {
  const accounts = ofType(resources, "azure-native:cognitiveservices:Account");
  const deployments = ofType(resources, "azure-native:cognitiveservices:Deployment");
  const backends = ofType(resources, "azure-native:apimanagement:Backend");
  const singles = backends.filter((b) => get(b, "type") === "Single");
  const poolResource = backends.find((b) => get(b, "type") === "Pool");

  const members = (
    (get(poolResource ?? ({ inputs: {} } as RecordedResource), "pool", "services") ?? []) as {
      id: string;
      priority: number;
      weight: number;
    }[]
  ).map((service) => {
    const single = singles.find((s) => s.id === service.id);
    return {
      backendId: String(single ? get(single, "backendId") : service.id),
      priority: service.priority,
      weight: service.weight,
      url: single ? String(get(single, "url")) : "",
    };
  });

  const instances = accounts.map((account): PlannedInstance => {
    const accountName = String(get(account, "accountName") ?? account.name);
    const endpoint = String((account.state.properties as Record<string, unknown> | undefined)?.endpoint ?? "");
    const member = members.find((m) => m.url.replace(/\/openai$/, "") === endpoint.replace(/\/$/, ""));
    return {
      resource: account.name,
      accountName,
      location: String(get(account, "location")),
      endpoint,
      priority: member?.priority,
      weight: member?.weight,
      backendId: member?.backendId,
      deployments: deployments
        .filter((d) => get(d, "accountName") === accountName)
        .map((d) => ({
          name: String(get(d, "deploymentName")),
          model: String(get(d, "properties", "model", "name")),
          version: String(get(d, "properties", "model", "version")),
          sku: get(d, "sku", "name") as DeploymentSku,
          capacity: Number(get(d, "sku", "capacity")),
        })),
    };
  });

  const breakers: Record<string, PlannedBreaker | undefined> = {};
  for (const single of singles) {
    const rule = (get(single, "circuitBreaker", "rules") as Record<string, unknown>[] | undefined)?.[0];
    const condition = (rule?.failureCondition ?? {}) as Record<string, unknown>;
    breakers[String(get(single, "backendId"))] = rule
      ? {
          failureCount: condition.count as number | undefined,
          failurePercentage: condition.percentage as number | undefined,
          interval: String(condition.interval),
          tripDuration: String(rule.tripDuration),
          statusCodes: (condition.statusCodeRanges ?? []) as { min: number; max: number }[],
          acceptRetryAfter: rule.acceptRetryAfter === true,
        }
      : undefined;
  }

  const [policy] = ofType(resources, "azure-native:apimanagement:ApiPolicy");
  const policyXml = policy ? String(get(policy, "value")) : undefined;
  const [api] = ofType(resources, "azure-native:apimanagement:Api");
  const [service] = ofType(resources, "azure-native:apimanagement:ApiManagementService");
  return {
    instances,
    pool: poolResource
      ? { backendId: String(get(poolResource, "backendId")), members: members.map(({ url: _url, ...m }) => m) }
      : undefined,
    breakers,
    retry: policyXml ? retryFromPolicy(policyXml) : undefined,
    api: api
      ? {
          path: String(get(api, "path")),
          format: String(get(api, "format")),
          protocols: (get(api, "protocols") ?? []) as string[],
          subscriptionRequired: get(api, "subscriptionRequired") === true,
        }
      : undefined,
    gateway: service
      ? {
          serviceName: String(get(service, "serviceName")),
          sku: String(get(service, "sku", "name")),
          capacity: Number(get(service, "sku", "capacity")),
          location: get(service, "location") as string | undefined,
          gatewayUrl: String(service.state.gatewayUrl),
        }
      : undefined,
    policyXml,
    openApi: api ? { format: String(get(api, "format")), value: String(get(api, "value")) } : undefined,
    monitoring: {
      workspace: ofType(resources, "azure-native:operationalinsights:Workspace").length > 0,
      appInsights: ofType(resources, "azure-native:applicationinsights:Component").length > 0,
      diagnosticSettings: ofType(resources, "azure-native:monitor:DiagnosticSetting").length,
      tokenMetric: policyXml?.includes("<azure-openai-emit-token-metric") ?? false,
      tokenLimit: policyXml ? Number(/tokens-per-minute="(\d+)"/.exec(policyXml)?.[1]) || undefined : undefined,
    },
  };
}

/** Capacity per deployment of the planned instances. */
export function plannedCapacity(topology: Topology): DeploymentCapacity[] {
  return capacityByDeployment(
    topology.instances.map((i) => ({
      name: i.backendId ?? i.accountName,
      priority: i.priority ?? 1,
      deployments: i.deployments,
    })),
  );
}

/** How far apart capacities per unit of weight may drift inside one priority group before we warn. */
export const CAPACITY_SKEW_LIMIT = 2;

/** What a platform engineer would want pointed out before deploying. */
export function planWarnings(topology: Topology, stack: string): string[] {
  const warnings: string[] = [];
  const { instances } = topology;
  const regions = new Set(instances.map((i) => i.location));
  if (instances.length > 0 && regions.size === 1) {
    warnings.push(
      `Single region: every instance is in ${[...regions][0]}. A regional outage takes the whole gateway down; add an instance in a second region.`,
    );
  }
  const priorities = new Set(instances.map((i) => i.priority));
  if (instances.length > 1 && priorities.size === 1) {
    warnings.push(
      `All ${instances.length} instances share priority ${[...priorities][0]}: there is no spill-over tier. When every one is throttled, clients get 429/503.`,
    );
  }
  const noBreaker = Object.entries(topology.breakers)
    .filter(([, b]) => b === undefined)
    .map(([id]) => id);
  if (noBreaker.length > 0) {
    warnings.push(
      `Circuit breaker disabled on ${noBreaker.join(", ")}: a throttled or failing instance keeps receiving its share of traffic.`,
    );
  }
  const breakers = Object.values(topology.breakers).filter((b): b is PlannedBreaker => b !== undefined);
  if (breakers.some((b) => !b.statusCodes.some((r) => r.min <= 429 && r.max >= 429))) {
    warnings.push("The circuit breaker does not count 429: a throttled instance is not taken out of the pool.");
  }
  if (topology.retry && topology.retry.count === 0 && instances.length > 1) {
    warnings.push(
      "Retry count is 0: a 429 from one instance reaches the client even when another instance has capacity.",
    );
  }
  for (const capacity of plannedCapacity(topology)) {
    const ptu = capacity.perInstance.filter((s) => isProvisioned(s.sku));
    if (ptu.length > 0) {
      const worstPtuPriority = Math.max(...ptu.map((s) => s.priority));
      const spill = capacity.perInstance.some((s) => !isProvisioned(s.sku) && s.priority > worstPtuPriority);
      if (!spill) {
        warnings.push(
          `Deployment ${capacity.deployment}: provisioned (PTU) capacity has no pay-as-you-go spill-over at a lower priority; when the PTUs are saturated clients get 429.`,
        );
      }
    }
    const groups = new Map<number, { instance: string; perWeight: number }[]>();
    for (const share of capacity.perInstance) {
      const instance = instances.find((i) => (i.backendId ?? i.accountName) === share.instance);
      const weight = instance?.weight ?? 1;
      if (share.tokensPerMinute !== undefined && weight > 0) {
        groups.set(share.priority, [
          ...(groups.get(share.priority) ?? []),
          { instance: share.instance, perWeight: share.tokensPerMinute / weight },
        ]);
      }
    }
    for (const [priority, group] of groups) {
      const values = group.map((g) => g.perWeight);
      if (group.length > 1 && Math.max(...values) > CAPACITY_SKEW_LIMIT * Math.min(...values)) {
        warnings.push(
          `Deployment ${capacity.deployment}, priority ${priority}: capacity per unit of weight differs more than ${CAPACITY_SKEW_LIMIT}x (${group.map((g) => `${g.instance} ${Math.round(g.perWeight)}`).join(", ")} TPM per weight); set weights in proportion to capacity or the small instance is throttled first.`,
        );
      }
    }
  }
  if (/prod/i.test(stack) && topology.gateway?.sku === "Developer") {
    warnings.push(`Stack "${stack}" looks like production but uses the Developer tier, which has no SLA.`);
  }
  return warnings;
}
