import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { closest } from "../common/didYouMean";
import { ConfigError, toProblems, type ConfigProblem } from "../common/errors";
import { additionalRegionsSchema, declaredRegions, regionSchema, strictObject } from "../common/validation";
import {
  apimCapacitySchema,
  apimSkuNameSchema,
  apiPathSchema,
  backendTimeoutSchema,
  checkApimCapacity,
  circuitBreakerSchema,
  clientAuthSchema,
  publisherEmailSchema,
  publisherNameSchema,
  retryArgsSchema,
  specUrlSchema,
  tokenLimitSchema,
} from "../components/apimGatewayArgs";
import { monitoringSchema } from "../components/gatewayMonitoringArgs";
import { alertsSchema, checkAlerts } from "../components/gatewayAlertsArgs";
import { tagsSchema } from "../components/inputs";
import { checkTeams, teamsSchema } from "../components/teamArgs";
import { checkNetwork, networkFields } from "../components/gatewayNetworkArgs";
import {
  additionalLocationsSchema,
  checkGatewayRegions,
  checkNearGateways,
  gatewayRegionsOf,
  zonesSchema,
} from "../components/gatewayRegionsArgs";
import {
  checkAvailability,
  checkDeployments,
  checkHosting,
  checkInstances,
  deploymentsSchema,
  instancesSchema,
  modelAvailabilitySchema,
  resolveInstances,
  type ResolvedInstance,
} from "../components/openAiScaleSetArgs";

/*
 * The program's stack config: which `openai-apim:*` keys it reads, their schema (built from the
 * components' own arg schemas, so a rule is written once) and the reader `pulumi up` calls.
 */

/** The config namespace of this project's keys (`openai-apim:instances`, ...). */
export const CONFIG_NAMESPACE = "openai-apim";

/** Keys read from the `openai-apim` namespace; any other key there is reported as a typo. */
export const STACK_CONFIG_KEYS = [
  "instances",
  "deployments",
  "apim",
  "circuitBreaker",
  "retry",
  "api",
  "monitoring",
  "alerts",
  "tokenLimit",
  "clientAuth",
  "teams",
  "network",
  "tags",
  "resourceGroupName",
  "additionalRegions",
  "additionalModelAvailability",
] as const;

/** Keys whose value is a plain string, never JSON (a resource group called "123" stays a string). */
const STRING_KEYS: ReadonlySet<string> = new Set(["resourceGroupName"]);

const apimSchema = (additionalRegions: readonly string[]) =>
  strictObject(
    {
      sku: apimSkuNameSchema,
      capacity: apimCapacitySchema,
      publisherEmail: publisherEmailSchema,
      publisherName: publisherNameSchema,
      zones: zonesSchema,
      additionalLocations: additionalLocationsSchema(additionalRegions),
    },
    "an object { sku, capacity?, publisherEmail, publisherName, zones?, additionalLocations? }",
  ).superRefine((apim, ctx) => checkApimCapacity(apim.sku, apim.capacity, ctx, ["capacity"]));

const networkSchema = strictObject(
  { mode: z.enum(["public", "private"], { error: "public or private" }).default("public"), ...networkFields },
  "an object { mode, gatewayAccess?, addressSpace?, subnets?, privateDnsZoneId? }",
).superRefine((network, ctx) => {
  if (network.mode === "public") {
    for (const key of ["gatewayAccess", "addressSpace", "subnets", "privateDnsZoneId"] as const) {
      if (network[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          input: network[key],
          message: "nothing with mode: public (set mode: private to use a virtual network)",
        });
      }
    }
  }
});

const apiSchema = strictObject(
  { path: apiPathSchema, specUrl: specUrlSchema, backendTimeoutSeconds: backendTimeoutSchema },
  "an object { path?, specUrl?, backendTimeoutSeconds? }",
);

export function stackConfigSchema(additionalRegions: readonly string[] = []) {
  return strictObject(
    {
      location: regionSchema(additionalRegions),
      resourceGroupName: z
        .string({ error: "1-90 letters, digits, '.', '_', '-' or '(' ')', not ending in '.'" })
        .regex(/^[-\w._()]{0,89}[-\w_()]$/, {
          error: "1-90 letters, digits, '.', '_', '-' or '(' ')', not ending in '.'",
        })
        .optional(),
      additionalRegions: additionalRegionsSchema,
      additionalModelAvailability: modelAvailabilitySchema(additionalRegions),
      instances: instancesSchema(additionalRegions),
      deployments: deploymentsSchema,
      apim: apimSchema(additionalRegions),
      circuitBreaker: circuitBreakerSchema.default(circuitBreakerSchema.parse({})),
      retry: retryArgsSchema.default(retryArgsSchema.parse({})),
      api: apiSchema.default(apiSchema.parse({})),
      monitoring: monitoringSchema.default(monitoringSchema.parse({})),
      alerts: alertsSchema.optional(),
      tokenLimit: tokenLimitSchema.optional(),
      clientAuth: clientAuthSchema.default(clientAuthSchema.parse({})),
      teams: teamsSchema,
      network: networkSchema.default(networkSchema.parse({})),
      tags: tagsSchema.default({}),
    },
    "the stack config",
  ).superRefine((config, ctx) => {
    checkInstances(config.instances, config.deployments, ctx);
    checkDeployments(config.deployments, ctx);
    checkAlerts(config.alerts, config.monitoring.enabled, ctx, ["alerts"], "openai-apim:monitoring.enabled");
    checkHosting(config.instances, config.deployments, ctx);
    checkAvailability(config.instances, config.deployments, config.additionalModelAvailability, ctx);
    checkTeams(
      config.teams,
      {
        deployments: config.deployments.map((d) => d.name),
        entraId: !!config.clientAuth.entraId,
        sku: config.apim.sku,
      },
      ctx,
    );
    checkGatewayRegions({ ...config.apim, location: config.location }, ctx, {
      zones: ["apim", "zones"],
      capacity: ["apim", "capacity"],
      additionalLocations: ["apim", "additionalLocations"],
      location: ["location"],
    });
    const regions = gatewayRegionsOf(config.location, config.apim.additionalLocations);
    checkNearGateways(config.instances, regions, ctx, (i, j) => ["instances", i, "nearGateways", j]);
    if (config.network.mode === "private") {
      const context = {
        sku: config.apim.sku,
        // Every region's gateway subnet has the primary's layout: size it for the most units.
        units: Math.max(config.apim.capacity, ...(config.apim.additionalLocations ?? []).map((l) => l.capacity)),
        accounts: config.instances.length,
        additionalLocations: config.apim.additionalLocations?.length ?? 0,
      };
      checkNetwork(config.network, context, ctx, ["network"]);
    }
  });
}

export type StackConfigInput = z.input<ReturnType<typeof stackConfigSchema>>;
export type ParsedStackConfig = z.output<ReturnType<typeof stackConfigSchema>>;

/**
 * The validated stack config with every default applied. `instances` keeps the configured shape
 * (what `OpenAiScaleSet` takes); `resolvedInstances` has names, weights and per-instance
 * deployments filled in (what capacity arithmetic reads).
 */
export type StackConfig = ParsedStackConfig & { resolvedInstances: ResolvedInstance[] };

const rootKey = (first: string) =>
  first === "location" ? "azure-native:location" : first === "" ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${first}`;

/**
 * Validates raw stack config (key -> parsed value, `location` being `azure-native:location`) and
 * applies defaults. Reports every problem at once in a `ConfigError`.
 */
export function parseStackConfig(raw: Record<string, unknown>, unknownKeys: readonly string[] = []): StackConfig {
  const problems: ConfigProblem[] = unknownKeys.map((key) => {
    const hint = closest(key, STACK_CONFIG_KEYS);
    return {
      key: `${CONFIG_NAMESPACE}:${key}`,
      given: "a key this project does not read",
      allowed: `only the keys ${STACK_CONFIG_KEYS.join(", ")}` + (hint ? ` (did you mean "${hint}"?)` : ""),
    };
  });
  const schema = stackConfigSchema(declaredRegions(raw.additionalRegions));
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    problems.push(...toProblems(result.error.issues, rootKey));
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError("Invalid stack config", problems);
  }
  return { ...result.data, resolvedInstances: resolveInstances(result.data.instances, result.data.deployments) };
}

/**
 * Validates config in the form the engine hands a program (`namespace:key` -> text, structured
 * values as JSON), as `pulumi.runtime.allConfig()` returns it.
 */
export function parseEngineConfig(engineConfig: Record<string, string>): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = { location: engineConfig["azure-native:location"] };
  const unknownKeys: string[] = [];
  for (const [fullKey, text] of Object.entries(engineConfig)) {
    if (!fullKey.startsWith(prefix)) {
      continue;
    }
    const key = fullKey.slice(prefix.length);
    if ((STACK_CONFIG_KEYS as readonly string[]).includes(key)) {
      raw[key] = STRING_KEYS.has(key) ? text : parseJsonOrText(text);
    } else {
      unknownKeys.push(key);
    }
  }
  return parseStackConfig(raw, unknownKeys);
}

/**
 * Reads this project's keys from the current stack's config and validates them. Call once at
 * program start, before any resource is registered.
 */
export function readStackConfig(): StackConfig {
  return parseEngineConfig(pulumi.runtime.allConfig());
}

/** Structured config arrives as JSON text; a bare word (`swedencentral`) stays text so the schema can name it. */
function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
