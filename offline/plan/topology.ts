import type { DeploymentSku } from "../../common/azureOpenAi";
import { OPERATION_ROUTINGS, type OperationRouting, type RoutedOperation } from "../../common/operationRouting";
import {
  entraTeamBlocks,
  teamApplications,
  teamRules,
  tokenValidation,
  type TeamRules,
  type TokenValidation,
} from "../../policy-pack/policies";
import type { RetryPolicy } from "../../policies/apiPolicy";
import { shortRegionName } from "../../common/regions";
import { ofType, type RecordedResource } from "../runtime/recorder";
import { findAll, parseXml, type XmlElement } from "./xml";

/*
 * What a set of recorded registrations describes, read back from the resources themselves (not from
 * the config), so the plan, its checks and the simulation see what would be sent to Azure.
 */

export interface PlannedDeployment {
  name: string;
  model: string;
  version: string;
  sku: DeploymentSku;
  capacity: number;
}

export interface PlannedInstance {
  /** The instance's key: the account's logical name without its component's prefix (`openai-swedencentral` -> `swedencentral`). */
  name: string;
  /** Logical name of the account resource. */
  resource: string;
  accountName: string;
  location: string;
  endpoint: string;
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

/** A Single backend: one account (by its endpoint), with its breaker. */
export interface PlannedBackend {
  backendId: string;
  /** The account this backend calls (by endpoint), when the stack created it. */
  instance?: PlannedInstance;
  url: string;
  breaker?: PlannedBreaker;
}

export interface PlannedPoolMember {
  backendId: string;
  priority: number;
  weight: number;
}

export interface PlannedPool {
  backendId: string;
  members: PlannedPoolMember[];
}

/** The gateway's virtual network as the stack sets it up. */
export interface PlannedNetwork {
  /** `External` or `Internal` (classic injection), `External` with a delegated subnet (v2 integration). */
  virtualNetworkType: string;
  /** The created networks (one per gateway region), each with its subnets; none with existing subnets. */
  virtualNetworks: {
    location?: string;
    addressSpace: string[];
    subnets: { name: string; prefix: string; delegation?: string; securityRules: number }[];
  }[];
  /** Existing subnets named by id, when the stack creates none. */
  existingSubnets: string[];
  /** Per account and gateway region (the endpoint's location). */
  privateEndpoints: { name: string; instance?: string; location?: string; groupIds: string[] }[];
  /** The privatelink zones: created (one per region, with network links) or an existing one by id. */
  dnsZones: { name: string; created: boolean; links: number }[];
}

/** A team: its rules as its policies state them. */
export interface PlannedTeam extends TeamRules {
  name: string;
  displayName?: string;
  /** Whether it has a product and subscription (callers with its key). */
  product: boolean;
  /** Its Entra ID applications. */
  entraClientIds: string[];
}

/** Which pool the API policy sends a deployment's requests to. */
export interface PlannedRoute {
  /** Deployment name as the policy compares it (lower case). */
  deployment: string;
  /** The pool of the primary gateway region (and of every region when they all agree). */
  poolId: string;
  /** Other gateway regions with a pool of their own for this deployment. */
  byRegion?: Record<string, string>;
}

/** One region the gateway runs units in. */
export interface PlannedGatewayRegion {
  location: string;
  units: number;
  zones?: string[];
  /** Its own gateway URL (a placeholder name in the offline plan). */
  regionalUrl?: string;
}

export interface Topology {
  instances: PlannedInstance[];
  backends: PlannedBackend[];
  pools: PlannedPool[];
  /** The policy's routing table: deployment -> pool. */
  routes: PlannedRoute[];
  retry?: RetryPolicy;
  /** The pool forward-request's timeout in seconds (api.backendTimeoutSeconds). */
  backendTimeoutSeconds?: number;
  /** Retry-After (seconds) the policy gives a 429/503 without one. */
  fallbackRetryAfterSeconds?: number;
  api?: { path: string; format: string; protocols: string[]; subscriptionRequired: boolean };
  /** The regions with gateway units, primary first. */
  gatewayRegions: PlannedGatewayRegion[];
  /** Every imported operation and how the policy routes it (read back from the policy). */
  operations: RoutedOperation[];
  /** Who may call: the subscription key, Entra ID tokens, or both. */
  callerAuth: { subscriptionKey: boolean; entraId?: TokenValidation };
  /** Teams and their rules, read back from their product policies and the API policy. */
  teams: PlannedTeam[];
  /** The private network, if the stack puts the gateway in one. */
  network?: PlannedNetwork;
  /** Each account's public network access as sent (`Enabled`, `Disabled`). */
  accountAccess: { instance: string; publicNetworkAccess: string }[];
  gateway?: {
    serviceName: string;
    sku: string;
    capacity: number;
    location?: string;
    gatewayUrl: string;
    /** Service inputs worth seeing because Azure refuses some values on some tiers (undefined: not sent). */
    sent: Record<string, unknown>;
  };
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

/** Sends to the deployment's pool (the stateless route), as opposed to one account (stored responses). */
const setsPool = (element: XmlElement) =>
  element.tag === "set-backend-service" && element.attributes["backend-id"] === '@((string)context.Variables["pool"])';

/** Reads the pool retry around forward-request back out of a rendered API policy. */
export function retryFromPolicy(xml: string): RetryPolicy {
  const backend = parseXml(xml).children.find((c) => c.tag === "backend");
  const retry = backend && findAll(backend, "retry").find((r) => r.children.some(setsPool))?.attributes;
  if (!retry) {
    return { count: 0, statusCodes: [], intervalSeconds: 0, firstFastRetry: false };
  }
  const optional = (name: string) => (retry[name] === undefined ? undefined : Number(retry[name]));
  return {
    count: Number(retry.count),
    statusCodes: [...String(retry.condition).matchAll(/StatusCode == (\d+)/g)].map((m) => Number(m[1])),
    intervalSeconds: Number(retry.interval),
    deltaSeconds: optional("delta"),
    maxIntervalSeconds: optional("max-interval"),
    firstFastRetry: retry["first-fast-retry"] === "true",
  };
}

/** The pool forward-request's timeout (seconds) in a rendered API policy. */
export function backendTimeoutFromPolicy(xml: string): number | undefined {
  const backend = parseXml(xml).children.find((c) => c.tag === "backend");
  const timeout = backend && findAll(backend, "forward-request").find((f) => f.attributes.timeout)?.attributes.timeout;
  return timeout === undefined ? undefined : Number(timeout);
}

/**
 * The routing table back out of a rendered API policy: every `<when>` that compares the `deployment`
 * variable and sets the `pool` variable.
 */
export function routesFromPolicy(xml: string): PlannedRoute[] {
  const whens = findAll(parseXml(xml), "when");
  return whens.flatMap((when: XmlElement) => {
    const deployment = /context\.Variables\["deployment"\] == "([^"]+)"/.exec(when.attributes.condition ?? "")?.[1];
    const pool = when.children.find((c) => c.tag === "set-variable" && c.attributes.name === "pool")?.attributes.value;
    if (!deployment || !pool) return [];
    // A literal pool, or a switch on the gateway's region (requestRouting.ts).
    const cases = [...pool.matchAll(/case "([a-z0-9]+)": return "([^"]+)";/g)];
    const fallback = /default: return "([^"]+)";/.exec(pool)?.[1];
    return [
      cases.length && fallback
        ? { deployment, poolId: fallback, byRegion: Object.fromEntries(cases.map((m) => [m[1], m[2]])) }
        : { deployment, poolId: pool },
    ];
  });
}

/**
 * How the policy classifies each imported operation: its `routing` variable compares the operation's
 * URL template with one list per routing; an operation in none of them is routed by its path.
 */
export function operationRoutesFromPolicy(xml: string, openApi: string | undefined): RoutedOperation[] {
  const routing = findAll(parseXml(xml), "set-variable").find((v) => v.attributes.name === "routing");
  const lists = new Map<string, OperationRouting>();
  for (const m of (routing?.attributes.value ?? "").matchAll(/"(\|[^"]*\|)"\.Contains\(template\)\) \{ return "([a-z-]+)"; \}/g)) {
    const kind = m[2] as OperationRouting;
    if (OPERATION_ROUTINGS.includes(kind)) {
      for (const template of m[1].split("|").filter(Boolean)) lists.set(template, kind);
    }
  }
  let paths: Record<string, Record<string, unknown>> = {};
  try {
    paths = (JSON.parse(openApi ?? "{}") as { paths?: typeof paths }).paths ?? {};
  } catch {
    // A linked document (api.specUrl) is not in the plan: no operations to list.
  }
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => ["get", "post", "put", "patch", "delete"].includes(method))
      .map((method) => ({ method, path, routing: lists.get(path) ?? ("path" as const) })),
  );
}

/** The Retry-After value the policy's on-error section sets, in seconds. */
export function fallbackRetryAfterFromPolicy(xml: string): number | undefined {
  const match = /<set-header name="Retry-After" exists-action="skip">\s*<value>(\d+)<\/value>/.exec(xml);
  return match ? Number(match[1]) : undefined;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

export function topologyOf(resources: readonly RecordedResource[]): Topology {
  const accounts = ofType(resources, "azure-native:cognitiveservices:Account");
  const deployments = ofType(resources, "azure-native:cognitiveservices:Deployment");
  const backendResources = ofType(resources, "azure-native:apimanagement:Backend");

  const logicalNameOf = (urn: string) => urn.split("::").pop() ?? "";
  const instances = accounts.map((account): PlannedInstance => {
    const accountName = String(get(account, "accountName") ?? account.name);
    const component = logicalNameOf(account.parent);
    return {
      name: component && account.name.startsWith(`${component}-`) ? account.name.slice(component.length + 1) : account.name,
      resource: account.name,
      accountName,
      location: String(get(account, "location")),
      endpoint: String((account.state.properties as Record<string, unknown> | undefined)?.endpoint ?? ""),
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

  const singles = backendResources.filter((b) => get(b, "type") === "Single");
  const backends = singles.map((single): PlannedBackend => {
    const url = String(get(single, "url"));
    const rule = (get(single, "circuitBreaker", "rules") as Record<string, unknown>[] | undefined)?.[0];
    const condition = (rule?.failureCondition ?? {}) as Record<string, unknown>;
    return {
      backendId: String(get(single, "backendId")),
      url,
      instance: instances.find((i) => i.endpoint && trimSlash(url).startsWith(trimSlash(i.endpoint))),
      breaker: rule
        ? {
            failureCount: condition.count as number | undefined,
            failurePercentage: condition.percentage as number | undefined,
            interval: String(condition.interval),
            tripDuration: String(rule.tripDuration),
            statusCodes: (condition.statusCodeRanges ?? []) as { min: number; max: number }[],
            acceptRetryAfter: rule.acceptRetryAfter === true,
          }
        : undefined,
    };
  });

  const pools = backendResources
    .filter((b) => get(b, "type") === "Pool")
    .map((pool): PlannedPool => ({
      backendId: String(get(pool, "backendId")),
      members: ((get(pool, "pool", "services") ?? []) as { id: string; priority: number; weight: number }[]).map(
        (service) => {
          const single = singles.find((s) => s.id === service.id);
          return {
            backendId: String(single ? get(single, "backendId") : service.id),
            priority: service.priority,
            weight: service.weight,
          };
        },
      ),
    }));

  const [policy] = ofType(resources, "azure-native:apimanagement:ApiPolicy");
  const policyXml = policy ? String(get(policy, "value")) : undefined;
  const [api] = ofType(resources, "azure-native:apimanagement:Api");
  const [service] = ofType(resources, "azure-native:apimanagement:ApiManagementService");
  return {
    instances,
    backends,
    pools,
    routes: policyXml ? routesFromPolicy(policyXml) : [],
    retry: policyXml ? retryFromPolicy(policyXml) : undefined,
    backendTimeoutSeconds: policyXml ? backendTimeoutFromPolicy(policyXml) : undefined,
    fallbackRetryAfterSeconds: policyXml ? fallbackRetryAfterFromPolicy(policyXml) : undefined,
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
          sent: Object.fromEntries(
            ["enableClientCertificate", "virtualNetworkType", "publicNetworkAccess", "zones", "additionalLocations"].map(
              (k) => [k, get(service, k)],
            ),
          ),
        }
      : undefined,
    policyXml,
    openApi: api ? { format: String(get(api, "format")), value: String(get(api, "value")) } : undefined,
    operations: policyXml && api ? operationRoutesFromPolicy(policyXml, String(get(api, "value"))) : [],
    teams: teamsOf(resources, policyXml),
    gatewayRegions: service ? gatewayRegionsOfService(service) : [],
    network: networkOf(resources, instances),
    accountAccess: accounts.map((account, i) => ({
      instance: instances[i].name,
      publicNetworkAccess: String(get(account, "properties", "publicNetworkAccess") ?? "Enabled"),
    })),
    callerAuth: callerAuthOf(get(api ?? ({ inputs: {} } as RecordedResource), "subscriptionRequired") === true, policyXml),
    monitoring: {
      workspace: ofType(resources, "azure-native:operationalinsights:Workspace").length > 0,
      appInsights: ofType(resources, "azure-native:applicationinsights:Component").length > 0,
      diagnosticSettings: ofType(resources, "azure-native:monitor:DiagnosticSetting").length,
      tokenMetric: policyXml?.includes("<azure-openai-emit-token-metric") ?? false,
      // The API-level limit (per caller), not a team's.
      tokenLimit: policyXml
        ? Number(/counter-key='@\(\(string\)context\.Variables\["caller"\]\)' tokens-per-minute="(\d+)"/.exec(policyXml)?.[1]) ||
          undefined
        : undefined,
    },
  };
}

function networkOf(resources: readonly RecordedResource[], instances: PlannedInstance[]): PlannedNetwork | undefined {
  const [service] = ofType(resources, "azure-native:apimanagement:ApiManagementService");
  const type = service ? (get(service, "virtualNetworkType") as string | undefined) : undefined;
  if (!type || type === "None") return undefined;
  const subnets = ofType(resources, "azure-native:network:Subnet");
  const groups = ofType(resources, "azure-native:network:NetworkSecurityGroup");
  const zones = ofType(resources, "azure-native:privatedns:PrivateZone");
  const links = ofType(resources, "azure-native:privatedns:VirtualNetworkLink");
  const zoneGroups = ofType(resources, "azure-native:network:PrivateDnsZoneGroup");
  const serviceSubnet = String(get(service, "virtualNetworkConfiguration", "subnetResourceId") ?? "");
  const endpoints = ofType(resources, "azure-native:network:PrivateEndpoint");
  const existingZones = [
    ...new Set(
      zoneGroups.flatMap((g) =>
        ((get(g, "privateDnsZoneConfigs") ?? []) as { privateDnsZoneId?: string }[]).map((c) => String(c.privateDnsZoneId)),
      ),
    ),
  ].filter((id) => !zones.some((z) => z.id === id));
  return {
    virtualNetworkType: type,
    virtualNetworks: ofType(resources, "azure-native:network:VirtualNetwork").map((vnet) => ({
      location: get(vnet, "location") as string | undefined,
      addressSpace: (get(vnet, "addressSpace", "addressPrefixes") ?? []) as string[],
      subnets: subnets
        .filter((subnet) => subnet.dependencies.includes(vnet.urn))
        .map((subnet) => {
          const nsg = groups.find((g) => g.id === get(subnet, "networkSecurityGroup", "id"));
          const delegation = ((get(subnet, "delegations") ?? []) as { serviceName?: string }[])[0]?.serviceName;
          return {
            name: String(get(subnet, "subnetName")),
            prefix: String(get(subnet, "addressPrefix")),
            ...(delegation ? { delegation } : {}),
            securityRules: nsg ? ((get(nsg, "securityRules") ?? []) as unknown[]).length : 0,
          };
        }),
    })),
    existingSubnets: subnets.length
      ? []
      : [serviceSubnet, ...endpoints.map((e) => String(get(e, "subnet", "id")))].filter(
          (id, i, all) => id && all.indexOf(id) === i,
        ),
    privateEndpoints: endpoints.map((e) => {
      const connection = (
        (get(e, "privateLinkServiceConnections") ?? []) as { privateLinkServiceId?: string; groupIds?: string[] }[]
      )[0];
      const instance = instances.find((i) => connection?.privateLinkServiceId?.endsWith(`/accounts/${i.accountName}`));
      return {
        name: e.name,
        instance: instance?.name,
        location: get(e, "location") as string | undefined,
        groupIds: connection?.groupIds ?? [],
      };
    }),
    dnsZones: [
      ...zones.map((zone) => ({
        name: String(get(zone, "privateZoneName")),
        created: true,
        links: links.filter((l) => l.dependencies.includes(zone.urn)).length,
      })),
      ...existingZones.map((id) => ({ name: id, created: false, links: 0 })),
    ],
  };
}

function gatewayRegionsOfService(service: RecordedResource): PlannedGatewayRegion[] {
  const extra = (get(service, "additionalLocations") ?? []) as { location: string; sku: { capacity: number }; zones?: string[] }[];
  const urls = (service.state.additionalLocations ?? []) as { location: string; gatewayRegionalUrl?: string }[];
  const zones = get(service, "zones") as string[] | undefined;
  return [
    {
      location: String(get(service, "location") ?? "(provider default)"),
      units: Number(get(service, "sku", "capacity")),
      ...(zones ? { zones } : {}),
      regionalUrl: service.state.gatewayRegionalUrl as string | undefined,
    },
    ...extra.map((l) => ({
      location: l.location,
      units: l.sku.capacity,
      ...(l.zones ? { zones: l.zones } : {}),
      // Azure answers locations by display name.
      regionalUrl: urls.find((u) => shortRegionName(u.location) === shortRegionName(l.location))?.gatewayRegionalUrl,
    })),
  ];
}

function teamsOf(resources: readonly RecordedResource[], policyXml: string | undefined): PlannedTeam[] {
  const products = ofType(resources, "azure-native:apimanagement:Product");
  const apps = policyXml ? teamApplications(policyXml) : new Map<string, string[]>();
  const blocks = policyXml ? entraTeamBlocks(policyXml) : new Map<string, string>();
  const teams: PlannedTeam[] = ofType(resources, "azure-native:apimanagement:ProductPolicy")
    .filter((p) => String(get(p, "productId")).startsWith("team-"))
    .map((p) => {
      const name = String(get(p, "productId")).slice("team-".length);
      const product = products.find((x) => get(x, "productId") === `team-${name}`);
      return {
        name,
        displayName: product ? String(get(product, "displayName")) : undefined,
        product: true,
        entraClientIds: apps.get(name) ?? [],
        ...teamRules(String(get(p, "value"))),
      };
    });
  for (const [name, ids] of apps) {
    if (!teams.some((t) => t.name === name)) {
      teams.push({ name, product: false, entraClientIds: ids, ...teamRules(blocks.get(name) ?? "") });
    }
  }
  return teams;
}

/** Keys are accepted when the API requires them or the policy asks a token only of requests without one. */
function callerAuthOf(subscriptionRequired: boolean, policyXml: string | undefined): Topology["callerAuth"] {
  const entraId = policyXml ? tokenValidation(policyXml) : undefined;
  return { subscriptionKey: subscriptionRequired || entraId?.applies === "without-key", entraId };
}

/** The members of a pool with the account and deployment each one serves. */
export function poolMembers(topology: Topology, pool: PlannedPool) {
  return pool.members.map((member) => {
    const backend = topology.backends.find((b) => b.backendId === member.backendId);
    return { ...member, backend, instance: backend?.instance };
  });
}
