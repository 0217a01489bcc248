import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { MAX_POOL_MEMBERS, POOL_PRIORITY_RANGE } from "../common/apim";
import {
  DEPLOYMENT_SKUS,
  firstSpellings,
  sameName,
  VERSION_UPGRADE_OPTIONS,
  type DeploymentSku,
} from "../common/azureOpenAi";
import { availabilityOf, describeUnavailable } from "../common/modelAvailability";
import {
  additionalRegionsSchema,
  bool,
  declaredRegions,
  int,
  regionSchema,
  safeRecord,
  strictObject,
} from "../common/validation";
import { inputText, tagsInput } from "./inputs";

/*
 * The public args of OpenAiScaleSet and their validation, side by side. The interfaces are what
 * Pulumi's analyzer turns into a schema for other languages (no union types); the zod schemas check
 * the same fields at run time (test/args-schema.test.ts fails when the two drift apart).
 */

/** A per-instance change to one deployment: not hosted here, or another SKU or capacity. */
export interface OpenAiDeploymentOverrideArgs {
  /** false: this instance does not host the deployment (regions differ in the models they offer). Default true. */
  enabled?: boolean;
  /** Deployment SKU on this instance (e.g. `GlobalProvisionedManaged` in the PTU region). */
  sku?: string;
  /** Capacity on this instance: thousands of tokens per minute, or PTUs for provisioned SKUs. */
  capacity?: number;
}

/** One Azure OpenAI account to create. */
export interface OpenAiInstanceArgs {
  /** Azure region of the account, e.g. `swedencentral`. */
  location: string;
  /** Stable key of the instance, used in resource names (2-40 lowercase letters, digits or hyphens, starting with a letter). Defaults to the location; needed when two instances share a region. */
  name?: string;
  /** Pool priority, 0-100; lower is preferred. Default 1. */
  priority?: number;
  /** Share of traffic within the priority group, 0-100. Default: equal shares. */
  weight?: number;
  /** Per-deployment changes on this instance, by deployment name (case-insensitive): not hosted, or another SKU or capacity. */
  deployments?: { [deploymentName: string]: OpenAiDeploymentOverrideArgs };
  /** Gateway regions that count this instance as near and try it first; default: gateway regions in the same part of the world. */
  nearGateways?: string[];
}

/** A model deployment, created on every instance that does not turn it off. */
export interface OpenAiDeploymentArgs {
  /** Deployment name clients use (2-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit), e.g. `gpt-4o-mini`. */
  name: string;
  /** Model name, e.g. `gpt-4o-mini`. */
  model: string;
  /** Model version, e.g. `2024-07-18`. */
  version: string;
  /** One of Standard, GlobalStandard, DataZoneStandard, ProvisionedManaged, GlobalProvisionedManaged, DataZoneProvisionedManaged. Default Standard. */
  sku?: string;
  /** Thousands of tokens per minute (PTUs for provisioned SKUs), per instance. Default 1. */
  capacity?: number;
  /** One of OnceCurrentVersionExpired, OnceNewDefaultVersionAvailable, NoAutoUpgrade. Default OnceCurrentVersionExpired. */
  versionUpgradeOption?: string;
}

/** Availability of a model that Microsoft's tables (as this library's snapshot has them) do not show yet. */
export interface ModelAvailabilityArgs {
  /** Model name, e.g. `gpt-4o`. */
  model: string;
  /** Model version, e.g. `2024-11-20`. */
  version: string;
  /** Deployment SKU, e.g. `Standard`. */
  sku: string;
  /** Regions where Azure now offers this model version with this SKU. */
  regions: string[];
}

export interface OpenAiScaleSetArgs {
  /** Resource group that holds the accounts. */
  resourceGroupName: pulumi.Input<string>;
  /** The accounts to create, 1 to 30 (an APIM pool's member limit). */
  instances: OpenAiInstanceArgs[];
  /** Model deployments; each is created on every account unless that instance sets `enabled: false` for it. */
  deployments: OpenAiDeploymentArgs[];
  /** Turn off API-key authentication so only Entra ID tokens work. Default true. */
  disableLocalAuth?: boolean;
  /** `Enabled` or `Disabled`. Default `Enabled`: APIM reaches the accounts over their public endpoints. `Disabled` also denies every network by default, for private endpoints only. */
  publicNetworkAccess?: string;
  /** Tags applied to every account and deployment. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Region names to accept in addition to the built-in list (for regions newer than this library). */
  additionalRegions?: string[];
  /** Model availability newer than this library's snapshot of Microsoft's tables; each (model, version, SKU, region) deployed must be offered by one or the other. */
  additionalModelAvailability?: ModelAvailabilityArgs[];
}

/** One OpenAI account as the gateway's backend pool sees it; what `ApimGateway` takes as `backends`. */
export interface OpenAiBackend {
  /** Stable key of the instance; names the APIM backend. */
  name: string;
  /** Azure region of the account. */
  location: string;
  /** The account's endpoint, e.g. `https://<subdomain>.openai.azure.com/`. */
  endpoint: pulumi.Output<string>;
  /** ARM id of the account; the scope of the gateway's role assignment. */
  resourceId: pulumi.Output<string>;
  /** Pool priority, 0-100; lower is preferred. */
  priority: number;
  /** Pool weight within the priority group, 0-100. */
  weight: number;
  /** Names of the model deployments this account hosts: the gateway routes each to the accounts hosting it. */
  deployments: string[];
  /** Gateway regions that count this account as near (the instance's `nearGateways`). */
  nearGateways?: string[];
  /** Tokens per minute each deployment serves here, where the model's rate is known (the gateway's token-usage alert). */
  tokensPerMinute: { [deployment: string]: number };
}

/** Instance names: they become parts of Azure resource names. */
export const INSTANCE_NAME_RULE =
  "2-40 lowercase letters, digits or hyphens, starting with a letter and not ending in a hyphen";
const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
/** Deployment names, as Azure OpenAI accepts them. */
export const DEPLOYMENT_NAME_RULE = "2-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;

const PRIORITY_OR_WEIGHT = `an integer from ${POOL_PRIORITY_RANGE.min} to ${POOL_PRIORITY_RANGE.max}`;
const priorityOrWeight = (allowed: string) => int(POOL_PRIORITY_RANGE.min, POOL_PRIORITY_RANGE.max, allowed);

const deploymentSku = z.enum(DEPLOYMENT_SKUS, { error: `one of ${DEPLOYMENT_SKUS.join(", ")}` });
const deploymentCapacity = int(
  1,
  1_000_000,
  "a whole number ≥ 1: thousands of tokens per minute, or PTUs for provisioned SKUs",
);

export const deploymentOverrideSchema = strictObject(
  {
    enabled: bool().default(true),
    sku: deploymentSku.optional(),
    capacity: deploymentCapacity.optional(),
  },
  "an object { enabled?, sku?, capacity? }",
);

/** Gateway regions that count an instance as near (checked against the gateway's regions where those are known). */
export const nearGatewaysSchema = (additionalRegions: readonly string[]) =>
  z
    .array(regionSchema(additionalRegions), { error: "a list of gateway regions" })
    .min(1, { error: "a list of at least one gateway region (omit it for the default)" })
    .optional();

export function instanceSchema(additionalRegions: readonly string[] = []) {
  return strictObject(
    {
      location: regionSchema(additionalRegions),
      name: z.string({ error: INSTANCE_NAME_RULE }).regex(INSTANCE_NAME, { error: INSTANCE_NAME_RULE }).optional(),
      priority: priorityOrWeight(`${PRIORITY_OR_WEIGHT} (lower is preferred)`).default(1),
      weight: priorityOrWeight(PRIORITY_OR_WEIGHT).optional(),
      deployments: safeRecord(
        deploymentOverrideSchema,
        "a map from a deployment name to { enabled?, sku?, capacity? }",
      ).optional(),
      nearGateways: nearGatewaysSchema(additionalRegions),
    },
    "an object { location, name?, priority?, weight?, deployments?, nearGateways? }",
  );
}

export const deploymentNameSchema = z
  .string({ error: `a deployment name: ${DEPLOYMENT_NAME_RULE}` })
  .regex(DEPLOYMENT_NAME, { error: `a deployment name: ${DEPLOYMENT_NAME_RULE}` });

export const deploymentSchema = strictObject(
  {
    name: deploymentNameSchema,
    model: z
      .string({ error: "a model name such as gpt-4o-mini" })
      .min(1, { error: "a model name such as gpt-4o-mini" }),
    version: z
      .string({ error: 'a model version as a quoted string, such as "2024-07-18"' })
      .min(1, { error: 'a model version as a quoted string, such as "2024-07-18"' }),
    sku: deploymentSku.default("Standard"),
    capacity: deploymentCapacity.default(1),
    versionUpgradeOption: z
      .enum(VERSION_UPGRADE_OPTIONS, { error: `one of ${VERSION_UPGRADE_OPTIONS.join(", ")}` })
      .default("OnceCurrentVersionExpired"),
  },
  "an object { name, model, version, sku?, capacity?, versionUpgradeOption? }",
);

/** 1 to 30 instances: the pool's member limit. */
export function instancesSchema(additionalRegions: readonly string[] = []) {
  return z
    .array(instanceSchema(additionalRegions), {
      error: `a list of 1 to ${MAX_POOL_MEMBERS} instances { location, priority?, weight? }`,
    })
    .min(1, { error: `a list of 1 to ${MAX_POOL_MEMBERS} instances { location, priority?, weight? }` })
    .max(MAX_POOL_MEMBERS, {
      error: `at most ${MAX_POOL_MEMBERS} instances (an APIM backend pool holds at most ${MAX_POOL_MEMBERS} members)`,
    });
}

export const deploymentsSchema = z
  .array(deploymentSchema, {
    error: "a list of at least one deployment { name, model, version, sku?, capacity? }",
  })
  .min(1, { error: "a list of at least one deployment { name, model, version, sku?, capacity? }" });

/** `additionalModelAvailability`: what Azure offers beyond the snapshot, as the user declares it. */
export function modelAvailabilitySchema(additionalRegions: readonly string[] = []) {
  return z
    .array(
      strictObject(
        {
          model: z.string({ error: "a model name such as gpt-4o" }).min(1, { error: "a model name such as gpt-4o" }),
          version: z.string({ error: 'a model version as a quoted string, such as "2024-11-20"' }),
          sku: deploymentSku,
          regions: z
            .array(regionSchema(additionalRegions), { error: "a list of region names" })
            .min(1, { error: "a list of at least one region name" }),
        },
        "an object { model, version, sku, regions }",
      ),
      { error: "a list of { model, version, sku, regions }" },
    )
    .default([]);
}

type ParsedInstance = z.output<ReturnType<typeof instanceSchema>>;
type ParsedDeployment = z.output<typeof deploymentSchema>;

/** Cross-field rules of `instances`, shared by the stack config and the OpenAiScaleSet args. */
export function checkInstances(
  instances: readonly ParsedInstance[],
  deployments: readonly ParsedDeployment[],
  ctx: z.RefinementCtx,
  key = "instances",
): void {
  const seen = new Map<string, number>();
  instances.forEach((instance, i) => {
    const name = instance.name ?? instance.location;
    const first = seen.get(name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key, i, instance.name ? "name" : "location"],
        input: name,
        message: `a name not used by ${key}[${first}]: give instances in the same region distinct \`name\`s`,
      });
    } else {
      seen.set(name, i);
    }
    const overrides = Object.keys(instance.deployments ?? {});
    const repeats = firstSpellings(overrides);
    overrides.forEach((override, j) => {
      if (!deployments.some((d) => sameName(d.name, override))) {
        ctx.addIssue({
          code: "custom",
          path: [key, i, "deployments", override],
          input: override,
          message: `the name of a configured deployment: one of ${deployments.map((d) => d.name).join(", ")}`,
        });
      }
      const first = repeats[j];
      if (first !== undefined) {
        // Only one of the two would apply: Azure matches deployment names case-insensitively.
        ctx.addIssue({
          code: "custom",
          path: [key, i, "deployments", override],
          input: override,
          message: `one override per deployment: "${overrides[first]}" already names it (names are case-insensitive)`,
        });
      }
    });
  });
  // A weight on some members of a priority group but not others would silently skew the split.
  const groups = new Map<number, ParsedInstance[]>();
  for (const instance of instances) {
    groups.set(instance.priority, [...(groups.get(instance.priority) ?? []), instance]);
  }
  for (const [priority, members] of groups) {
    const weighted = members.filter((m) => m.weight !== undefined).length;
    if (weighted > 0 && weighted < members.length) {
      const i = instances.findIndex((m) => m.priority === priority && m.weight === undefined);
      ctx.addIssue({
        code: "custom",
        path: [key, i, "weight"],
        input: undefined,
        message: `a weight, because other instances with priority ${priority} have one (weight all or none of a priority group)`,
      });
    }
  }
}

/**
 * Every deployment an instance would create must be offered in its region with its SKU, by the
 * availability snapshot or by what the user declares; Azure refuses it otherwise.
 */
export function checkAvailability(
  instances: readonly ParsedInstance[],
  deployments: readonly ParsedDeployment[],
  declared: readonly z.output<ReturnType<typeof modelAvailabilitySchema>>[number][],
  ctx: z.RefinementCtx,
  key = "instances",
): void {
  resolveInstances(instances, deployments).forEach((instance, i) => {
    for (const d of instance.deployments) {
      const availability = availabilityOf(d.model, d.version, d.sku, instance.location, declared);
      if (availability.status === "unavailable") {
        ctx.addIssue({
          code: "custom",
          path: [key, i, "deployments", d.name],
          input: `${d.model} ${d.version} (${d.sku}) on instance ${instance.name} in ${instance.location}`,
          message: describeUnavailable(d.model, d.version, d.sku, instance.location, availability),
        });
      }
    }
  });
}

/** Every deployment must be hosted by at least one instance, and every instance host one. */
export function checkHosting(
  instances: readonly ParsedInstance[],
  deployments: readonly ParsedDeployment[],
  ctx: z.RefinementCtx,
  key = "deployments",
): void {
  const resolved = resolveInstances(instances, deployments);
  resolved.forEach((instance, i) => {
    if (instance.deployments.length === 0 && deployments.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["instances", i, "deployments"],
        input: `every deployment enabled: false on instance ${instance.name}`,
        message: "an instance that hosts at least one deployment (remove the instance instead)",
      });
    }
  });
  deployments.forEach((deployment, i) => {
    if (!resolved.some((instance) => instance.deployments.some((d) => d.name === deployment.name))) {
      ctx.addIssue({
        code: "custom",
        path: [key, i, "name"],
        input: deployment.name,
        message: "a deployment at least one instance hosts (every instance sets enabled: false for it)",
      });
    }
  });
}

/** Cross-field rules of `deployments`, shared by the stack config and the OpenAiScaleSet args. */
export function checkDeployments(
  deployments: readonly ParsedDeployment[],
  ctx: z.RefinementCtx,
  key = "deployments",
): void {
  const repeats = firstSpellings(deployments.map((d) => d.name));
  deployments.forEach((deployment, i) => {
    const first = repeats[i];
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key, i, "name"],
        input: deployment.name,
        message: `a deployment name not already used by ${key}[${first}] (names are case-insensitive in Azure)`,
      });
    }
  });
}

/** The whole args object of OpenAiScaleSet. */
export function scaleSetArgsSchema(args: unknown) {
  const additionalRegions = declaredRegions((args as { additionalRegions?: unknown } | undefined)?.additionalRegions);
  return strictObject(
    {
      resourceGroupName: inputText("a resource group name"),
      instances: instancesSchema(additionalRegions),
      deployments: deploymentsSchema,
      disableLocalAuth: bool().default(true),
      publicNetworkAccess: z.enum(["Enabled", "Disabled"], { error: "one of Enabled, Disabled" }).default("Enabled"),
      tags: tagsInput.optional(),
      additionalRegions: additionalRegionsSchema,
      additionalModelAvailability: modelAvailabilitySchema(additionalRegions),
    },
    "an object { resourceGroupName, instances, deployments, disableLocalAuth?, publicNetworkAccess?, tags?, additionalRegions?, additionalModelAvailability? }",
  ).superRefine((parsed, ctx) => {
    checkInstances(parsed.instances, parsed.deployments, ctx);
    checkDeployments(parsed.deployments, ctx);
    checkHosting(parsed.instances, parsed.deployments, ctx);
    checkAvailability(parsed.instances, parsed.deployments, parsed.additionalModelAvailability, ctx);
  });
}

/** A model deployment as it is created on one instance, after that instance's overrides. */
export interface ResolvedDeployment {
  name: string;
  model: string;
  version: string;
  sku: DeploymentSku;
  capacity: number;
  versionUpgradeOption: string;
}

/** An OpenAI instance with every default filled in. */
export interface ResolvedInstance {
  /** Unique key of the instance; names its Azure resources. Defaults to the location. */
  name: string;
  location: string;
  priority: number;
  weight: number;
  deployments: ResolvedDeployment[];
  nearGateways?: string[];
}

/**
 * Fills in instance defaults: the name (the location), the weight (equal shares inside a priority
 * group when nobody set one), and the deployments the instance hosts, each with its SKU and capacity
 * after the instance's overrides (matched case-insensitively, as Azure matches names).
 */
export function resolveInstances(
  instances: readonly ParsedInstance[],
  deployments: readonly ResolvedDeployment[],
): ResolvedInstance[] {
  return instances.map((instance) => {
    const overrides = Object.entries(instance.deployments ?? {});
    const overrideOf = (name: string) => overrides.find(([key]) => sameName(key, name))?.[1];
    return {
      name: instance.name ?? instance.location,
      location: instance.location,
      priority: instance.priority,
      weight: instance.weight ?? 1,
      ...(instance.nearGateways ? { nearGateways: instance.nearGateways } : {}),
      deployments: deployments
        .filter((deployment) => overrideOf(deployment.name)?.enabled !== false)
        .map((deployment) => {
          const override = overrideOf(deployment.name);
          return {
            ...deployment,
            ...(override?.sku === undefined ? {} : { sku: override.sku }),
            ...(override?.capacity === undefined ? {} : { capacity: override.capacity }),
          };
        }),
    };
  });
}
