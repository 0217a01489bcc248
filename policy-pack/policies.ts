import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

import { MAX_POOL_MEMBERS, POOL_PRIORITY_RANGE } from "../common/apim";
import { isProductionStack } from "../common/environment";
import { entraTeamBlocks, retryCount, teamApplications, teamRules, tokenValidation } from "./policyXml";

export { entraTeamBlocks, retryCount, teamApplications, teamRules, tokenValidation } from "./policyXml";
export type { TeamRules, TokenValidation } from "./policyXml";

/*
 * Guard rails for stacks built from openai-apim, and the one definition of every rule that can be
 * judged from resource inputs alone: `npm run plan` runs these same policies over what the program
 * registers (offline/plan/packVerdicts.ts) instead of keeping copies. Checked on the inputs
 * `pulumi preview` would send: during a preview some values are unknown (undefined here), so each
 * rule only judges what it can see. Resource types are compared by token so the pack needs no
 * azure-native dependency, and it imports only dependency-free files of this repository.
 */

const ACCOUNT = "azure-native:cognitiveservices:Account";
const APIM = "azure-native:apimanagement:ApiManagementService";
const BACKEND = "azure-native:apimanagement:Backend";
const API = "azure-native:apimanagement:Api";
const API_POLICY = "azure-native:apimanagement:ApiPolicy";
const PRODUCT_POLICY = "azure-native:apimanagement:ProductPolicy";

/** `urn:pulumi:<stack>::<project>::<type>::<name>` -> `<stack>`. */
export function stackOf(urn: string): string {
  return urn.split("::")[0].replace(/^urn:pulumi:/, "");
}

/** The stack's name when it looks like production (stack rules judge production stacks only). */
function productionStack(args: StackValidationArgs): string | undefined {
  const stack = args.resources.length ? stackOf(args.resources[0].urn) : "";
  return isProductionStack(stack) ? stack : undefined;
}

type Props = Record<string, unknown>;
const prop = (props: Props, ...path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (value as Props | undefined)?.[key], props);

interface PoolService {
  id?: string;
  priority?: number;
  weight?: number;
}
const poolServices = (props: Props): PoolService[] =>
  (prop(props, "pool", "services") as PoolService[] | undefined) ?? [];

export const openAiLocalAuthDisabled: ResourceValidationPolicy = {
  name: "openai-local-auth-disabled",
  description: "Azure OpenAI accounts accept Entra ID tokens only: properties.disableLocalAuth must be true.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (
      args.type === ACCOUNT &&
      args.props.kind === "OpenAI" &&
      prop(args.props, "properties", "disableLocalAuth") !== true
    ) {
      report(
        `OpenAI account ${args.name} allows API-key authentication; set disableLocalAuth: true (the gateway uses its managed identity).`,
      );
    }
  },
};

export const apimNotConsumption: ResourceValidationPolicy = {
  name: "apim-not-consumption",
  description: "API Management is not on the Consumption tier, which has no backend circuit breaker.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type === APIM && prop(args.props, "sku", "name") === "Consumption") {
      report(`API Management ${args.name} uses the Consumption tier, which supports no backend circuit breaker.`);
    }
  },
};

export const poolMembersHaveCircuitBreaker: StackValidationPolicy = {
  name: "pool-members-have-circuit-breaker",
  description:
    "Every Single backend in a pool has exactly one circuit-breaker rule, so a failing instance leaves the pool.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const backends = args.resources.filter((r) => r.type === BACKEND);
    for (const pool of backends.filter((b) => b.props.type === "Pool")) {
      // The pool names its members by ARM id, which a preview does not know yet; the dependencies of
      // its `pool` property are the member resources either way.
      const members: PolicyResource[] = (pool.propertyDependencies?.pool ?? []).filter((d) => d.type === BACKEND);
      for (const member of members) {
        const rules = prop(member.props, "circuitBreaker", "rules") as unknown[] | undefined;
        if (member.props.type !== "Single") {
          report(
            `Pool ${pool.name} contains ${member.name}, which is not a Single backend (pools cannot nest).`,
            pool.urn,
          );
        } else if (!rules || rules.length !== 1) {
          report(
            `Backend ${member.name} in pool ${pool.name} has ${rules?.length ?? 0} circuit-breaker rules; it needs exactly one.`,
            member.urn,
          );
        }
      }
    }
  },
};

export const poolWithinLimits: ResourceValidationPolicy = {
  name: "pool-within-limits",
  description: `A backend pool has at most ${MAX_POOL_MEMBERS} members, each with priority and weight within 0..100.`,
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== BACKEND || args.props.type !== "Pool") {
      return;
    }
    const services = poolServices(args.props);
    if (services.length > MAX_POOL_MEMBERS) {
      report(`Pool ${args.name} has ${services.length} members; APIM allows at most ${MAX_POOL_MEMBERS}.`);
    }
    services.forEach((service, i) => {
      for (const field of ["priority", "weight"] as const) {
        const value = service[field];
        if (
          value !== undefined &&
          (!Number.isInteger(value) || value < POOL_PRIORITY_RANGE.min || value > POOL_PRIORITY_RANGE.max)
        ) {
          report(
            `Pool ${args.name} member ${i} has ${field} ${value}; allowed: an integer from ${POOL_PRIORITY_RANGE.min} to ${POOL_PRIORITY_RANGE.max}.`,
          );
        }
      }
    });
  },
};

export const poolMembersExist: StackValidationPolicy = {
  name: "pool-members-exist",
  description:
    "Every member of a backend pool is a Single backend this stack creates, so the pool never routes to nothing.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const pool of args.resources.filter((r) => r.type === BACKEND && r.props.type === "Pool")) {
      const services = poolServices(pool.props);
      // Member ids are ARM ids a preview may not know yet; the `pool` property's dependencies are the members.
      const members = new Set((pool.propertyDependencies?.pool ?? []).filter((d) => d.type === BACKEND));
      if (services.length === 0) {
        report(`Pool ${pool.name} has no members.`, pool.urn);
      } else if (members.size !== services.length) {
        report(
          `Pool ${pool.name} lists ${services.length} members but refers to ${members.size} backends of this stack; every member must be one of its Single backends.`,
          pool.urn,
        );
      }
    }
  },
};

export const poolHasFailover: ResourceValidationPolicy = {
  name: "pool-has-failover",
  description: "Every deployment is hosted by at least two accounts, so its pool has somewhere to fail over to.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type === BACKEND && args.props.type === "Pool" && poolServices(args.props).length === 1) {
      report(
        `Pool ${args.name} has a single member: when that account fails or is throttled, its deployment has no failover.`,
      );
    }
  },
};

export const poolsCoverPriorityTiers: StackValidationPolicy = {
  name: "pools-cover-priority-tiers",
  description:
    "Every pool has members at each priority the stack's pools use, so no deployment lacks the spill-over tier the others have.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    const pools = args.resources.filter((r) => r.type === BACKEND && r.props.type === "Pool");
    const tiers = new Set(pools.flatMap((p) => poolServices(p.props).map((s) => s.priority ?? 1)));
    for (const pool of pools) {
      const own = new Set(poolServices(pool.props).map((s) => s.priority ?? 1));
      const missing = [...tiers].filter((t) => !own.has(t)).sort((a, b) => a - b);
      if (missing.length > 0) {
        report(
          `Pool ${pool.name} has no member at priority ${missing.join(", ")}, which other pools use: its deployment lacks that tier.`,
          pool.urn,
        );
      }
    }
  },
};

/** The API policies of the stack by the API id they apply to. */
const policiesByApi = (resources: PolicyResource[]) =>
  new Map(
    resources
      .filter((r) => r.type === API_POLICY && typeof r.props.value === "string")
      .map((r) => [String(r.props.apiId), String(r.props.value)]),
  );

export const apiHttpsAuthenticated: StackValidationPolicy = {
  name: "api-https-authenticated",
  description:
    "APIs accept HTTPS only, and every request brings a subscription key or an Entra ID token the API policy validates.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const policyOf = policiesByApi(args.resources);
    for (const api of args.resources.filter((r) => r.type === API)) {
      const protocols = api.props.protocols as string[] | undefined;
      if (!protocols || protocols.length === 0 || protocols.some((p) => p.toLowerCase() !== "https")) {
        report(
          `API ${api.name} accepts ${protocols?.join(", ") || "the default protocols"}; allowed: https only.`,
          api.urn,
        );
      }
      if (api.props.subscriptionRequired === true) {
        continue;
      }
      const xml = policyOf.get(String(api.props.apiId));
      const validation = xml === undefined ? undefined : tokenValidation(xml);
      if (!validation || validation.applies === "other") {
        report(
          `API ${api.name} requires no subscription key and its policy does not validate an Entra ID token on every request without one; set subscriptionRequired: true or validate tokens (clientAuth.entraId).`,
          api.urn,
        );
      }
    }
  },
};

export const entraCallersRestricted: StackValidationPolicy = {
  name: "entra-callers-restricted",
  description:
    "Where the gateway accepts Entra ID tokens, it names the applications allowed to call, not any application of the tenant.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    for (const policy of args.resources.filter((r) => r.type === API_POLICY && typeof r.props.value === "string")) {
      const validation = tokenValidation(String(policy.props.value));
      if (validation && validation.clientIds.length === 0) {
        report(
          `The policy ${policy.name} accepts a token of any application in tenant ${validation.tenantId ?? "(unknown)"} with audience ${validation.audiences.join(", ")}; list the callers in clientAuth.entraId.allowedClientIds.`,
          policy.urn,
        );
      }
    }
  },
};

export const noDeveloperTierInProduction: ResourceValidationPolicy = {
  name: "no-developer-tier-in-production",
  description: "A stack whose name looks like production does not run API Management on the Developer tier (no SLA).",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const stack = stackOf(args.urn);
    if (args.type === APIM && prop(args.props, "sku", "name") === "Developer" && isProductionStack(stack)) {
      report(
        `Stack ${stack} looks like production but API Management ${args.name} is on the Developer tier, which has no SLA.`,
      );
    }
  },
};

export const atLeastTwoRegions: StackValidationPolicy = {
  name: "at-least-two-regions",
  description: "OpenAI accounts span at least two regions, so one regional outage does not take the gateway down.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    const accounts = args.resources.filter((r) => r.type === ACCOUNT && r.props.kind === "OpenAI");
    const regions = new Set(accounts.map((a) => a.props.location as string | undefined).filter((l) => l !== undefined));
    if (accounts.length > 0 && regions.size < 2) {
      report(
        `All ${accounts.length} OpenAI accounts are in ${[...regions].join(", ") || "one region"}; add a second region.`,
      );
    }
  },
};

export const poolHasSpillover: ResourceValidationPolicy = {
  name: "pool-has-spillover",
  description:
    "Pool members use more than one priority, so a lower tier takes over when the preferred one is throttled.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== BACKEND || args.props.type !== "Pool") {
      return;
    }
    const priorities = new Set(poolServices(args.props).map((s) => s.priority ?? 1));
    if (poolServices(args.props).length > 1 && priorities.size === 1) {
      report(`All members of pool ${args.name} share priority ${[...priorities][0]}: there is no spill-over tier.`);
    }
  },
};

export const breakerCountsThrottling: ResourceValidationPolicy = {
  name: "breaker-counts-throttling",
  description: "Circuit breakers count 429, so a throttled instance leaves the pool instead of answering every retry.",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== BACKEND || args.props.type !== "Single") {
      return;
    }
    const rules = (prop(args.props, "circuitBreaker", "rules") as Props[] | undefined) ?? [];
    for (const rule of rules) {
      const ranges = (prop(rule, "failureCondition", "statusCodeRanges") as { min?: number; max?: number }[]) ?? [];
      if (!ranges.some((r) => (r.min ?? 0) <= 429 && (r.max ?? 0) >= 429)) {
        report(
          `The circuit breaker of ${args.name} does not count 429: a throttled instance is not taken out of the pool.`,
        );
      }
    }
  },
};

export const gatewayRetriesPoolMembers: StackValidationPolicy = {
  name: "gateway-retries-pool-members",
  description: "Where a pool has several members, the API policy retries a 429 or 503 on another member.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    const largestPool = Math.max(
      0,
      ...args.resources
        .filter((r) => r.type === BACKEND && r.props.type === "Pool")
        .map((r) => poolServices(r.props).length),
    );
    for (const policy of args.resources.filter((r) => r.type === API_POLICY)) {
      const xml = policy.props.value;
      if (typeof xml === "string" && largestPool > 1 && retryCount(xml) === 0) {
        report(
          `The policy ${policy.name} does not retry: a 429 from one instance reaches the client even when another instance has capacity.`,
          policy.urn,
        );
      }
    }
  },
};

export const openAiPrivateInProduction: ResourceValidationPolicy = {
  name: "openai-private-in-production",
  description:
    "In a production stack, OpenAI accounts take no public network traffic: only the gateway reaches them, through private endpoints.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== ACCOUNT || args.props.kind !== "OpenAI") return;
    const stack = stackOf(args.urn);
    // Left out, Azure enables it. (A value unknown during a preview never gets here: the policy SDK
    // skips a rule that reads one.)
    const access = prop(args.props, "properties", "publicNetworkAccess") ?? "not set, so Enabled";
    if (isProductionStack(stack) && access !== "Disabled") {
      report(
        `Stack ${stack} looks like production but OpenAI account ${args.name} accepts public network traffic (publicNetworkAccess ${String(access)}); anyone with a token can bypass the gateway. Set openai-apim:network.mode: private.`,
      );
    }
  },
};

/** Does this gateway keep serving through a zone or a region outage? (Also the plan's warning.) */
export function gatewaySurvivesAnOutage(serviceProps: Props): boolean {
  const zones = (prop(serviceProps, "zones") as string[] | undefined) ?? [];
  const extra = (prop(serviceProps, "additionalLocations") as unknown[] | undefined) ?? [];
  return zones.length >= 2 || extra.length > 0;
}

export const gatewaySurvivesZoneOrRegion: ResourceValidationPolicy = {
  name: "gateway-survives-zone-or-region",
  description:
    "In a production stack the gateway has units in two or more availability zones, or in a second region, so it is not the single point of failure.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== APIM) return;
    const stack = stackOf(args.urn);
    if (isProductionStack(stack) && !gatewaySurvivesAnOutage(args.props)) {
      report(
        `Stack ${stack} looks like production but API Management ${args.name} runs in one region without availability zones: one zone or region outage stops every client. Set apim.zones (Premium, StandardV2) or apim.additionalLocations (Premium).`,
      );
    }
  },
};

export const teamsHaveTokenLimit: StackValidationPolicy = {
  name: "teams-have-token-limit",
  description:
    "In a production stack every team has a token rate limit, so no team can take the capacity the others share.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const stack = productionStack(args);
    if (!stack) return;
    const teams: { team: string; xml: string; urn: string }[] = [];
    for (const policy of args.resources.filter((r) => r.type === PRODUCT_POLICY)) {
      const product = String(policy.props.productId ?? "");
      if (product.startsWith("team-") && typeof policy.props.value === "string") {
        teams.push({ team: product.slice("team-".length), xml: policy.props.value, urn: policy.urn });
      }
    }
    for (const policy of args.resources.filter((r) => r.type === API_POLICY && typeof r.props.value === "string")) {
      // Teams of Entra ID applications without a product (keys off): their rules are in the API policy.
      const xml = String(policy.props.value);
      const blocks = entraTeamBlocks(xml);
      for (const team of teamApplications(xml).keys()) {
        if (!teams.some((t) => t.team === team)) teams.push({ team, xml: blocks.get(team) ?? "", urn: policy.urn });
      }
    }
    for (const { team, xml, urn } of teams) {
      if (teamRules(xml).tokensPerMinute === undefined) {
        report(
          `Stack ${stack} looks like production but team ${team} has no token rate limit; set teams[].tokensPerMinute.`,
          urn,
        );
      }
    }
  },
};

const LOG_ALERT = "azure-native:monitor:ScheduledQueryRule";
const METRIC_ALERT = "azure-native:monitor:MetricAlert";

/** The action groups an alert rule tells; undefined while a preview cannot see them. */
export function alertActionGroups(type: string, props: Props): string[] | undefined {
  if (type === LOG_ALERT) return prop(props, "actions", "actionGroups") as string[] | undefined;
  if (type === METRIC_ALERT) {
    const actions = prop(props, "actions") as { actionGroupId?: string }[] | undefined;
    return actions?.map((a) => a.actionGroupId ?? "");
  }
  return undefined;
}

export const productionAlertsNotify: StackValidationPolicy = {
  name: "production-alerts-notify",
  description:
    "In a production stack the gateway has alert rules, and every rule tells someone (an e-mail, a webhook or an action group).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const stack = productionStack(args);
    if (!stack) return;
    const rules = args.resources.filter((r) => r.type === LOG_ALERT || r.type === METRIC_ALERT);
    const gateways = args.resources.filter((r) => r.type === APIM);
    if (gateways.length && rules.length === 0) {
      report(
        `Stack ${stack} looks like production but has no alert rules: nobody hears of a failing account, an exhausted pool or a busy gateway. Keep openai-apim:monitoring and openai-apim:alerts enabled.`,
        gateways[0].urn,
      );
    }
    for (const rule of rules) {
      const groups = alertActionGroups(rule.type, rule.props);
      if (groups && groups.length === 0) {
        report(
          `Stack ${stack} looks like production but alert rule ${rule.name} tells nobody; set openai-apim:alerts.emails, alerts.webhookUrl or alerts.actionGroupIds.`,
          rule.urn,
        );
      }
    }
  },
};

/** Every rule of the pack, mandatory ones first. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  openAiLocalAuthDisabled,
  apimNotConsumption,
  poolMembersHaveCircuitBreaker,
  poolMembersExist,
  poolWithinLimits,
  apiHttpsAuthenticated,
  noDeveloperTierInProduction,
  openAiPrivateInProduction,
  gatewaySurvivesZoneOrRegion,
  teamsHaveTokenLimit,
  productionAlertsNotify,
  atLeastTwoRegions,
  poolHasSpillover,
  poolHasFailover,
  poolsCoverPriorityTiers,
  breakerCountsThrottling,
  gatewayRetriesPoolMembers,
  entraCallersRestricted,
];
