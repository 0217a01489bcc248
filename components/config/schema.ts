import { z } from "zod";
import { parseIsoDuration } from "./duration";
import { AZURE_REGIONS } from "./regions";

/*
 * The stack config model: one zod schema per user-facing key. Every `error` text below is the
 * "allowed" half of a problem report (see errors.ts), so it describes what would have been accepted.
 */

/** Model deployment SKUs of Azure OpenAI that an inference gateway can route to. */
export const DEPLOYMENT_SKUS = [
  "Standard",
  "GlobalStandard",
  "DataZoneStandard",
  "ProvisionedManaged",
  "GlobalProvisionedManaged",
  "DataZoneProvisionedManaged",
] as const;
export type DeploymentSku = (typeof DEPLOYMENT_SKUS)[number];

/** SKUs whose capacity is provisioned throughput units (PTUs) rather than thousands of tokens per minute. */
export const PROVISIONED_SKUS: readonly DeploymentSku[] = [
  "ProvisionedManaged",
  "GlobalProvisionedManaged",
  "DataZoneProvisionedManaged",
];

export const VERSION_UPGRADE_OPTIONS = [
  "OnceCurrentVersionExpired",
  "OnceNewDefaultVersionAvailable",
  "NoAutoUpgrade",
] as const;

/**
 * APIM tiers this project deploys, with their scale-unit range. Consumption is left out on purpose:
 * it has no backend circuit breaker. Isolated is retired.
 */
export const APIM_SKU_UNITS = {
  Developer: { min: 1, max: 1 },
  Basic: { min: 1, max: 2 },
  Standard: { min: 1, max: 4 },
  Premium: { min: 1, max: 31 },
  BasicV2: { min: 1, max: 10 },
  StandardV2: { min: 1, max: 10 },
} as const;
export type ApimSku = keyof typeof APIM_SKU_UNITS;
export const APIM_SKUS = Object.keys(APIM_SKU_UNITS) as ApimSku[];

/** APIM limits a backend pool to 30 members, hence the same bound on instances. */
export const MAX_INSTANCES = 30;

const PRIORITY_OR_WEIGHT = "an integer from 0 to 100";
const NAME_PATTERN = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const DEPLOYMENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;
// RFC 5322 is far looser; this is the shape APIM's publisher e-mail field accepts in practice.
const EMAIL_PATTERN = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const FORBIDDEN_TAG_CHARS = /[<>%&\\?/]/;

/** Closest entry of `candidates` to `given` (edit distance ≤ 3), for "did you mean" hints. */
export function closest(given: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    const d = editDistance(given.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * An object that refuses unknown keys (a typo such as `prority` must not be silently ignored) and
 * says which keys it knows, with a "did you mean" hint for near misses.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T, description: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") {
        return description;
      }
      const hints = issue.keys
        .map((key) => [key, closest(key, known)] as const)
        .filter(([, hint]) => hint !== undefined)
        .map(([key, hint]) => `"${hint}" instead of "${key}"`);
      return `only the keys ${known.join(", ")}` + (hints.length ? ` (did you mean ${hints.join(", ")}?)` : "");
    },
  });
}

const int = (min: number, max: number, allowed: string) =>
  z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });

const isoDuration = (what: string) =>
  z
    .string({ error: `an ISO-8601 duration for ${what}, such as PT10S, PT1M or PT1H` })
    .refine((text) => parseIsoDuration(text) !== undefined, {
      error: `an ISO-8601 duration for ${what}, such as PT10S, PT1M or PT1H`,
    });

/** A location check that knows the built-in region list plus any the user adds. */
export function regionSchema(additionalRegions: readonly string[] = []) {
  const known = new Set([...AZURE_REGIONS, ...additionalRegions]);
  return z.string({ error: "an Azure region name such as swedencentral" }).refine((name) => known.has(name), {
    error: (issue) => {
      const hint = typeof issue.input === "string" ? closest(issue.input, [...known]) : undefined;
      return hint
        ? `an Azure region name (did you mean "${hint}"?)`
        : `an Azure region name: one of ${[...known].join(", ")}; ` +
            "a region newer than this list can be added with openai-apim:additionalRegions";
    },
  });
}

const deploymentSku = z.enum(DEPLOYMENT_SKUS, { error: `one of ${DEPLOYMENT_SKUS.join(", ")}` });
const deploymentCapacity = int(
  1,
  1_000_000,
  "a whole number ≥ 1: thousands of tokens per minute, or PTUs for provisioned SKUs",
);

/** Per-instance override of a deployment's SKU and capacity (e.g. PTU in one region, pay-as-you-go elsewhere). */
export const deploymentOverrideSchema = strictObject(
  {
    sku: deploymentSku.optional(),
    capacity: deploymentCapacity.optional(),
  },
  "an object { sku?, capacity? }",
);

export function instanceSchema(additionalRegions: readonly string[] = []) {
  return strictObject(
    {
      location: regionSchema(additionalRegions),
      name: z
        .string({ error: "2-40 lowercase letters, digits or hyphens, starting with a letter" })
        .regex(NAME_PATTERN, { error: "2-40 lowercase letters, digits or hyphens, starting with a letter" })
        .optional(),
      priority: int(0, 100, `${PRIORITY_OR_WEIGHT} (lower is preferred)`).default(1),
      weight: int(0, 100, PRIORITY_OR_WEIGHT).optional(),
      deployments: z
        .record(z.string(), deploymentOverrideSchema, {
          error: "a map from a deployment name to { sku?, capacity? }",
        })
        .optional(),
    },
    "an object { location, name?, priority?, weight?, deployments? }",
  );
}

export const deploymentSchema = strictObject(
  {
    name: z
      .string({ error: "a deployment name: 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit" })
      .regex(DEPLOYMENT_NAME_PATTERN, {
        error: "a deployment name: 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      }),
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

export const apimSkuNameSchema = z.enum(APIM_SKUS as [ApimSku, ...ApimSku[]], {
  error: (issue) =>
    `one of ${APIM_SKUS.join(", ")}` +
    (issue.input === "Consumption" ? " (Consumption is refused: it has no backend circuit breaker)" : ""),
});
const apimCapacitySchema = z
  .number({ error: "a whole number of scale units" })
  .int({ error: "a whole number of scale units" })
  .default(1);
export const publisherEmailSchema = z
  .string({ error: "an e-mail address such as platform@contoso.com" })
  .regex(EMAIL_PATTERN, { error: "an e-mail address such as platform@contoso.com" });
export const publisherNameSchema = z
  .string({ error: "a non-empty organisation name (at most 100 characters)" })
  .min(1, { error: "a non-empty organisation name (at most 100 characters)" })
  .max(100, { error: "a non-empty organisation name (at most 100 characters)" });

/** The unit range of an APIM tier, as a problem at `path` when `capacity` is outside it. */
export function checkApimCapacity(sku: ApimSku, capacity: number, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  const units = APIM_SKU_UNITS[sku];
  if (capacity < units.min || capacity > units.max) {
    ctx.addIssue({
      code: "custom",
      path,
      input: capacity,
      message:
        units.min === units.max
          ? `exactly ${units.min} unit for the ${sku} tier`
          : `${units.min} to ${units.max} units for the ${sku} tier`,
    });
  }
}

export const apimSchema = strictObject(
  {
    sku: apimSkuNameSchema,
    capacity: apimCapacitySchema,
    publisherEmail: publisherEmailSchema,
    publisherName: publisherNameSchema,
  },
  "an object { sku, capacity?, publisherEmail, publisherName }",
).superRefine((apim, ctx) => checkApimCapacity(apim.sku, apim.capacity, ctx, ["capacity"]));

/** The `sku` arg of ApimGateway: `{ name, capacity? }`. */
export const apimSkuSchema = strictObject(
  { name: apimSkuNameSchema, capacity: apimCapacitySchema },
  "an object { name, capacity? }",
).superRefine((sku, ctx) => checkApimCapacity(sku.name, sku.capacity, ctx, ["capacity"]));

const statusCodeRange = strictObject(
  {
    min: int(100, 599, "an HTTP status code from 100 to 599"),
    max: int(100, 599, "an HTTP status code from 100 to 599"),
  },
  "an object { min, max } of HTTP status codes",
).refine((range) => range.min <= range.max, { error: "a range whose min is not above its max" });

export const DEFAULT_FAILURE_STATUS_CODES = [
  { min: 429, max: 429 },
  { min: 500, max: 599 },
];

export const circuitBreakerSchema = strictObject(
  {
    enabled: z.boolean({ error: "true or false" }).default(true),
    failureCount: int(1, 10_000, "a whole number of failures from 1 to 10000").optional(),
    failurePercentage: int(1, 100, "a percentage of failed calls from 1 to 100").optional(),
    interval: isoDuration("the window in which failures are counted").default("PT1M"),
    tripDuration: isoDuration("how long a tripped backend is skipped").default("PT1M"),
    statusCodes: z
      .array(statusCodeRange, { error: "a list of { min, max } HTTP status ranges" })
      .min(1, { error: "a list of at least one { min, max } HTTP status range" })
      .default(DEFAULT_FAILURE_STATUS_CODES),
    acceptRetryAfter: z.boolean({ error: "true or false" }).default(true),
  },
  "an object { enabled?, failureCount?, failurePercentage?, interval?, tripDuration?, statusCodes?, acceptRetryAfter? }",
)
  .superRefine((breaker, ctx) => {
    if (breaker.failureCount !== undefined && breaker.failurePercentage !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["failurePercentage"],
        input: breaker.failurePercentage,
        message: "either failureCount or failurePercentage, not both (APIM's rule trips on one threshold)",
      });
    }
  })
  .transform((breaker) => ({
    ...breaker,
    // Azure OpenAI signals saturation with one 429; waiting for more lets clients see them.
    failureCount: breaker.failureCount ?? (breaker.failurePercentage === undefined ? 1 : undefined),
  }));

export const retrySchema = strictObject(
  {
    count: int(0, 50, "a whole number of retries from 0 to 50 (default: number of instances - 1)").optional(),
    intervalSeconds: int(0, 300, "a whole number of seconds from 0 to 300").default(0),
    deltaSeconds: int(0, 300, "a whole number of seconds from 0 to 300").optional(),
    maxIntervalSeconds: int(0, 300, "a whole number of seconds from 0 to 300").optional(),
    firstFastRetry: z.boolean({ error: "true or false" }).default(true),
    statusCodes: z
      .array(int(400, 599, "an HTTP error status code from 400 to 599"), {
        error: "a list of HTTP status codes such as [429, 503]",
      })
      .min(1, { error: "a list of at least one HTTP status code such as [429, 503]" })
      .default([429, 503]),
  },
  "an object { count?, intervalSeconds?, deltaSeconds?, maxIntervalSeconds?, firstFastRetry?, statusCodes? }",
);

export const apiPathSchema = z
  .string({ error: "a URL path segment such as openai (letters, digits, '-', '_', '/')" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_/-]{0,399}$/, {
    error: "a URL path segment such as openai (letters, digits, '-', '_', '/'; no leading slash)",
  })
  .default("openai");
export const specUrlSchema = z
  .url({ protocol: /^https$/, error: "an https:// link to an OpenAPI 3 JSON document" })
  .optional();

export const apiSchema = strictObject(
  {
    path: apiPathSchema,
    specUrl: specUrlSchema,
  },
  "an object { path?, specUrl? }",
);

export const monitoringSchema = strictObject(
  {
    enabled: z.boolean({ error: "true or false" }).default(true),
    samplingPercentage: z
      .number({ error: "a percentage from 0 to 100" })
      .min(0, { error: "a percentage from 0 to 100" })
      .max(100, { error: "a percentage from 0 to 100" })
      .default(100),
    logBodyBytes: int(0, 8192, "a number of bytes from 0 to 8192 (0 logs no bodies)").default(0),
    retentionInDays: int(30, 730, "a number of days from 30 to 730").default(30),
    workspaceResourceId: z
      .string({ error: "the resource id of an existing Log Analytics workspace" })
      .regex(
        /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/i,
        {
          error: "the resource id of an existing Log Analytics workspace (/subscriptions/…/workspaces/<name>)",
        },
      )
      .optional(),
    appInsightsResourceId: z
      .string({ error: "the resource id of an existing Application Insights component" })
      .regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Insights\/components\/[^/]+$/i, {
        error: "the resource id of an existing Application Insights component (/subscriptions/…/components/<name>)",
      })
      .optional(),
    openAiDiagnosticSettings: z.boolean({ error: "true or false" }).default(true),
  },
  "an object { enabled?, samplingPercentage?, logBodyBytes?, retentionInDays?, workspaceResourceId?, appInsightsResourceId?, openAiDiagnosticSettings? }",
);

export const tokenLimitSchema = strictObject(
  {
    tokensPerMinute: int(1, 100_000_000, "a whole number of tokens per minute ≥ 1"),
    estimatePromptTokens: z.boolean({ error: "true or false" }).default(true),
  },
  "an object { tokensPerMinute, estimatePromptTokens? }",
);

export const tagsSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(512)
      .refine((key) => !FORBIDDEN_TAG_CHARS.test(key), {
        error: "a tag name of 1-512 characters without < > % & \\ ? /",
      }),
    z.string({ error: "a string of at most 256 characters" }).max(256, { error: "a string of at most 256 characters" }),
    { error: "a map of tag names to string values" },
  )
  .refine((tags) => Object.keys(tags).length <= 50, { error: "at most 50 tags (an Azure limit)" });

export const additionalRegionsSchema = z
  .array(z.string().regex(/^[a-z0-9]+$/, { error: "a region name in lowercase letters and digits" }), {
    error: "a list of region names",
  })
  .default([]);

/** 1 to 30 instances: the pool's member limit. */
export function instancesSchema(additionalRegions: readonly string[] = []) {
  return z
    .array(instanceSchema(additionalRegions), {
      error: `a list of 1 to ${MAX_INSTANCES} instances { location, priority?, weight? }`,
    })
    .min(1, { error: `a list of 1 to ${MAX_INSTANCES} instances { location, priority?, weight? }` })
    .max(MAX_INSTANCES, {
      error: `at most ${MAX_INSTANCES} instances (an APIM backend pool holds at most 30 members)`,
    });
}

export const deploymentsSchema = z
  .array(deploymentSchema, {
    error: "a list of at least one deployment { name, model, version, sku?, capacity? }",
  })
  .min(1, { error: "a list of at least one deployment { name, model, version, sku?, capacity? }" });

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
      instances: instancesSchema(additionalRegions),
      deployments: deploymentsSchema,
      apim: apimSchema,
      circuitBreaker: circuitBreakerSchema.default(circuitBreakerSchema.parse({})),
      retry: retrySchema.default(retrySchema.parse({})),
      api: apiSchema.default(apiSchema.parse({})),
      monitoring: monitoringSchema.default(monitoringSchema.parse({})),
      tokenLimit: tokenLimitSchema.optional(),
      tags: tagsSchema.default({}),
    },
    "the stack config",
  ).superRefine((config, ctx) => {
    checkInstances(config.instances, config.deployments, ctx);
    checkDeployments(config.deployments, ctx);
  });
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
    for (const override of Object.keys(instance.deployments ?? {})) {
      if (!deployments.some((d) => d.name === override)) {
        ctx.addIssue({
          code: "custom",
          path: [key, i, "deployments", override],
          input: override,
          message: `the name of a configured deployment: one of ${deployments.map((d) => d.name).join(", ")}`,
        });
      }
    }
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

/** Cross-field rules of `deployments`, shared by the stack config and the OpenAiScaleSet args. */
export function checkDeployments(
  deployments: readonly ParsedDeployment[],
  ctx: z.RefinementCtx,
  key = "deployments",
): void {
  const seen = new Map<string, number>();
  deployments.forEach((deployment, i) => {
    const first = seen.get(deployment.name.toLowerCase());
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key, i, "name"],
        input: deployment.name,
        message: `a deployment name not already used by ${key}[${first}] (names are case-insensitive in Azure)`,
      });
    } else {
      seen.set(deployment.name.toLowerCase(), i);
    }
  });
}

export type StackConfigInput = z.input<ReturnType<typeof stackConfigSchema>>;
export type ParsedStackConfig = z.output<ReturnType<typeof stackConfigSchema>>;
