import type * as pulumi from "@pulumi/pulumi";
import type * as apimanagement from "@pulumi/azure-native/apimanagement";
import { z } from "zod";
import { APIM_SKU_UNITS, APIM_SKUS, MAX_POOL_MEMBERS, POOL_PRIORITY_RANGE, type ApimSku } from "../common/apim";
import { COGNITIVE_SERVICES_AUDIENCE, firstSpellings, sameName } from "../common/azureOpenAi";
import { DEFAULT_BACKEND_TIMEOUT_SECONDS, type RetryPolicy } from "../policies/apiPolicy";
import { GUID, TENANT_DOMAIN } from "../common/entra";
import {
  additionalRegionsSchema,
  applicationIdsSchema,
  bool,
  declaredRegions,
  emailAddress,
  int,
  safeRecord,
  isoDuration,
  regionSchema,
  strictObject,
} from "../common/validation";
import { monitoringSchema, type GatewayMonitoringArgs } from "./gatewayMonitoringArgs";
import { alertsSchema, checkAlerts, type GatewayAlertsArgs } from "./gatewayAlertsArgs";
import { inputOf, inputText, tagsInput } from "./inputs";
import { deploymentNameSchema, nearGatewaysSchema } from "./openAiScaleSetArgs";
import { checkTeams, teamsSchema, type TeamArgs } from "./teamArgs";
import { apimNetworkSchema, checkGatewayNetwork, type ApimNetworkArgs } from "./gatewayNetworkArgs";
import {
  additionalLocationsSchema,
  checkGatewayRegions,
  checkNearGateways,
  gatewayRegionsOf,
  zonesSchema,
  type AdditionalLocationArgs,
} from "./gatewayRegionsArgs";

/*
 * The public args of ApimGateway and their validation, side by side. Plain interfaces without union
 * types, so Pulumi's analyzer can turn them into a schema for other languages; the zod schemas check
 * the same fields at run time (test/args-schema.test.ts fails when the two drift apart).
 */

/** The APIM tier and its scale units. */
export interface ApimSkuArgs {
  /** One of Developer, Basic, Standard, Premium, BasicV2, StandardV2 (Consumption has no circuit breaker). */
  name: string;
  /** Scale units; default 1. */
  capacity?: number;
}

/** One Azure OpenAI account behind the gateway. `OpenAiScaleSet.backends` has this shape. */
export interface ApimBackendArgs {
  /** Unique key of the backend; names the APIM backend entity and its role assignment. */
  name: string;
  /** Azure region of the account (labels, metrics and the offline plan). */
  location: string;
  /** The account endpoint, e.g. `https://<subdomain>.openai.azure.com/`. */
  endpoint: pulumi.Input<string>;
  /** ARM id of the account: the scope of the gateway identity's role assignment. */
  resourceId: pulumi.Input<string>;
  /** Pool priority 0-100, lower preferred; default 1. */
  priority?: number;
  /** Pool weight 0-100 within the priority group; default 1. */
  weight?: number;
  /** The model deployments this account hosts (names as clients use them); each gets a backend with its own breaker in that deployment's pool. */
  deployments: string[];
  /** Gateway regions that count this account as near and try it first; default: gateway regions in the same part of the world. */
  nearGateways?: string[];
  /** Tokens per minute each hosted deployment serves on this account (the token-usage alert compares usage with their sum); `OpenAiScaleSet` fills it in. */
  tokensPerMinute?: { [deployment: string]: number };
}

/** An HTTP status range that counts as a failure. */
export interface StatusCodeRangeArgs {
  /** Lowest status code, e.g. 500. */
  min: number;
  /** Highest status code, e.g. 599. */
  max: number;
}

/** The one circuit-breaker rule applied to every backend. */
export interface CircuitBreakerArgs {
  /** false creates backends without a breaker; default true. */
  enabled?: boolean;
  /** Failures within `interval` that trip the breaker; default 1. */
  failureCount?: number;
  /** Trip on this percentage of failed calls instead of a count. */
  failurePercentage?: number;
  /** ISO-8601 window in which failures are counted; default PT1M. */
  interval?: string;
  /** ISO-8601 time a tripped backend is skipped; default PT1M. */
  tripDuration?: string;
  /** Responses that count as failures; default 429 and 500-599. */
  statusCodes?: StatusCodeRangeArgs[];
  /** Keep a backend tripped as long as its Retry-After asks; default true. */
  acceptRetryAfter?: boolean;
}

/** The gateway's retry to another pool member. */
export interface RetryArgs {
  /** Retries after the first attempt, 0-50; default: members of the largest pool - 1. */
  count?: number;
  /** Seconds between retries; default 0. */
  intervalSeconds?: number;
  /** Linear/exponential back-off step in seconds. */
  deltaSeconds?: number;
  /** Upper bound of exponential back-off in seconds. */
  maxIntervalSeconds?: number;
  /** First retry immediately; default true. */
  firstFastRetry?: boolean;
  /** Backend status codes that are retried; default [429, 500, 502, 503, 504]. */
  statusCodes?: number[];
}

/** A token budget per subscription key. */
export interface TokenLimitArgs {
  /** Prompt and completion tokens per minute per subscription key. */
  tokensPerMinute: number;
  /** Count prompt tokens before forwarding (rejects early, costs gateway CPU); default true. */
  estimatePromptTokens?: boolean;
}

/** Callers with Microsoft Entra ID tokens (what `get_bearer_token_provider` clients send). */
export interface EntraIdArgs {
  /** Directory (tenant) id, or its domain, that issues the callers' tokens. */
  tenantId: string;
  /** Token audiences accepted; default `https://cognitiveservices.azure.com`, the scope Azure OpenAI clients ask for. */
  audiences?: string[];
  /** Application (client) ids allowed to call; default any application of the tenant (the plan warns). */
  allowedClientIds?: string[];
}

/** Who may call the gateway, and with what. */
export interface ClientAuthArgs {
  /** Also (or only) accept Entra ID tokens as `Authorization: Bearer`. */
  entraId?: EntraIdArgs;
  /** Accept the subscription key (`api-key` header); default true. false makes Entra ID the only way in. */
  subscriptionKey?: boolean;
}

export interface ApimGatewayArgs {
  /** Resource group of the APIM instance. */
  resourceGroupName: pulumi.Input<string>;
  /** Region of the APIM instance; default the provider's location. */
  location?: string;
  /** APIM tier and units. */
  sku: ApimSkuArgs;
  /** E-mail for APIM system notifications. */
  publisherEmail: string;
  /** Organisation name shown in the developer portal. */
  publisherName: string;
  /** The Azure OpenAI accounts to balance over, 1 to 30, with the deployments each hosts (`OpenAiScaleSet.backends` fits). */
  backends: ApimBackendArgs[];
  /** The breaker rule of every backend. */
  circuitBreaker?: CircuitBreakerArgs;
  /** Retry settings of the API policy. */
  retry?: RetryArgs;
  /** Path of the inference API under the gateway URL; default `openai`. */
  apiPath?: string;
  /** Import the API from this https link (OpenAPI 3 JSON) instead of the bundled document. */
  specUrl?: string;
  /** Seconds the gateway waits for a backend's response headers, 1-240; default 240 (long non-streamed generations). */
  backendTimeoutSeconds?: number;
  /** Log Analytics, Application Insights, APIM diagnostics and token metrics; on by default. */
  monitoring?: GatewayMonitoringArgs;
  /** Alert rules on the gateway's telemetry and who they notify; on by default with monitoring. */
  alerts?: GatewayAlertsArgs;
  /** Limit tokens per minute per subscription key (azure-openai-token-limit). */
  tokenLimit?: TokenLimitArgs;
  /** Who may call: the subscription key (default) and/or Entra ID tokens. */
  clientAuth?: ClientAuthArgs;
  /** Teams sharing the gateway, each with its own product, key, deployments and token budget; default one shared product. */
  teams?: TeamArgs[];
  /** Availability zones of the primary location's units ("1", "2", "3"; Premium and StandardV2). */
  zones?: string[];
  /** More regions with gateway units (Premium only), each preferring the accounts near it. */
  additionalLocations?: AdditionalLocationArgs[];
  /** Put the gateway in a virtual network and reach the accounts through private endpoints (GatewayNetwork makes one); default public. */
  network?: ApimNetworkArgs;
  /** Tags of the APIM instance and the monitoring resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Region names to accept in addition to the built-in list. */
  additionalRegions?: string[];
}

export const apimSkuNameSchema = z.enum(APIM_SKUS as [ApimSku, ...ApimSku[]], {
  error: (issue) =>
    `one of ${APIM_SKUS.join(", ")}` +
    (issue.input === "Consumption" ? " (Consumption is refused: it has no backend circuit breaker)" : ""),
});
export const apimCapacitySchema = z
  .number({ error: "a whole number of scale units" })
  .int({ error: "a whole number of scale units" })
  .default(1);
export const publisherEmailSchema = emailAddress();
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
    enabled: bool().default(true),
    failureCount: int(1, 10_000, "a whole number of failures from 1 to 10000").optional(),
    failurePercentage: int(1, 100, "a percentage of failed calls from 1 to 100").optional(),
    interval: isoDuration("the window in which failures are counted").default("PT1M"),
    tripDuration: isoDuration("how long a tripped backend is skipped").default("PT1M"),
    statusCodes: z
      .array(statusCodeRange, { error: "a list of { min, max } HTTP status ranges" })
      .min(1, { error: "a list of at least one { min, max } HTTP status range" })
      .default(DEFAULT_FAILURE_STATUS_CODES),
    acceptRetryAfter: bool().default(true),
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

/**
 * What the gateway retries on another pool member: throttling and the transient server errors, as
 * Microsoft's AI-Gateway samples do (429 and 5xx). 501 and 505 are not transient. Simulated with the
 * shipped scenarios (README, "Why the defaults"), adding 500, 502 and 504 to 429 and 503 serves more
 * clients during a regional outage and costs nothing elsewhere.
 */
export const DEFAULT_RETRY_STATUS_CODES = [429, 500, 502, 503, 504];

export const retryArgsSchema = strictObject(
  {
    count: int(0, 50, "a whole number of retries from 0 to 50 (default: members of the largest pool - 1)").optional(),
    intervalSeconds: int(0, 300, "a whole number of seconds from 0 to 300").default(0),
    deltaSeconds: int(0, 300, "a whole number of seconds from 0 to 300").optional(),
    maxIntervalSeconds: int(0, 300, "a whole number of seconds from 0 to 300").optional(),
    firstFastRetry: bool().default(true),
    statusCodes: z
      .array(int(400, 599, "an HTTP error status code from 400 to 599"), {
        error: "a list of HTTP status codes such as [429, 503]",
      })
      .min(1, { error: "a list of at least one HTTP status code such as [429, 503]" })
      .default(DEFAULT_RETRY_STATUS_CODES),
  },
  "an object { count?, intervalSeconds?, deltaSeconds?, maxIntervalSeconds?, firstFastRetry?, statusCodes? }",
).superRefine((retry, ctx) => {
  // APIM's retry backs off exponentially only with interval, delta and max-interval together; it
  // defines nothing for max-interval alone (retry-policy.md), so that is refused rather than sent.
  if (retry.maxIntervalSeconds !== undefined && retry.deltaSeconds === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["maxIntervalSeconds"],
      input: retry.maxIntervalSeconds,
      message: "nothing unless deltaSeconds is set too (exponential back-off needs interval, delta and max-interval)",
    });
  }
});

/**
 * The API's path under the gateway URL. The SDKs append `/openai/...` to the endpoint they are given
 * (`AzureOpenAI`) or are given `<endpoint>/openai/v1` (`OpenAI`), so the path must end in `openai`.
 */
const API_PATH_RULE =
  "a URL path ending in the segment openai, such as openai or ai/openai (letters, digits, '-', '_', '/'; no leading slash): the OpenAI SDKs append /openai/... to the endpoint they are given";
export const apiPathSchema = z
  .string({ error: API_PATH_RULE })
  .max(400, { error: API_PATH_RULE })
  .regex(/^(?:[A-Za-z0-9][A-Za-z0-9_-]*\/)*openai$/, { error: API_PATH_RULE })
  .default("openai");

/** What a client sets as its Azure endpoint: the gateway URL and the API path without its final `openai`. */
export function clientEndpoint(gatewayUrl: string, apiPath: string): string {
  const prefix = apiPath.replace(/\/?openai$/, "");
  return `${gatewayUrl.replace(/\/+$/, "")}${prefix ? `/${prefix}` : ""}`;
}
/** forward-request's timeout; Microsoft says values above 240 s may not be honoured (forward-request-policy.md). */
export const backendTimeoutSchema = int(
  1,
  240,
  "whole seconds from 1 to 240 (APIM may not honour more: idle connections are dropped after about four minutes)",
).default(DEFAULT_BACKEND_TIMEOUT_SECONDS);

export const specUrlSchema = z
  .url({ protocol: /^https$/, error: "an https:// link to an OpenAPI 3 JSON document" })
  .optional();

export const tokenLimitSchema = strictObject(
  {
    tokensPerMinute: int(1, 100_000_000, "a whole number of tokens per minute ≥ 1"),
    estimatePromptTokens: bool().default(true),
  },
  "an object { tokensPerMinute, estimatePromptTokens? }",
);

export const clientAuthSchema = strictObject(
  {
    entraId: strictObject(
      {
        tenantId: z
          .string({ error: "a tenant id (GUID) or its domain, such as contoso.onmicrosoft.com" })
          .refine((t) => GUID.test(t) || TENANT_DOMAIN.test(t), {
            error: "a tenant id (GUID) or its domain, such as contoso.onmicrosoft.com",
          }),
        audiences: z
          .array(z.string({ error: "an audience URI or application id" }).min(1, { error: "a non-empty audience" }), {
            error: "a list of token audiences",
          })
          .min(1, { error: "a list of at least one audience" })
          .default([COGNITIVE_SERVICES_AUDIENCE]),
        allowedClientIds: applicationIdsSchema("omit it to allow any").optional(),
      },
      "an object { tenantId, audiences?, allowedClientIds? }",
    ).optional(),
    subscriptionKey: bool().default(true),
  },
  "an object { entraId?, subscriptionKey? }",
).superRefine((auth, ctx) => {
  if (!auth.subscriptionKey && !auth.entraId) {
    ctx.addIssue({
      code: "custom",
      path: ["subscriptionKey"],
      input: false,
      message: "true, unless entraId is set: with neither, nobody could call the gateway",
    });
  }
});

export type ParsedClientAuth = z.output<typeof clientAuthSchema>;

const endpointSchema = inputOf(
  z
    .string({ error: "an https:// endpoint such as https://my-account.openai.azure.com/" })
    .regex(/^https:\/\/[^/\s]+/, { error: "an https:// endpoint such as https://my-account.openai.azure.com/" }),
);
const ACCOUNT_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/]+$/i;
const resourceIdSchema = inputOf(
  z.string({ error: "the ARM id of a Cognitive Services account" }).regex(ACCOUNT_ID, {
    error:
      "the ARM id of a Cognitive Services account (/subscriptions/…/providers/Microsoft.CognitiveServices/accounts/<name>)",
  }),
);
const priorityOrWeight = (what: string) =>
  int(POOL_PRIORITY_RANGE.min, POOL_PRIORITY_RANGE.max, `${what}: an integer from 0 to 100`).default(1);

function backendSchema(additionalRegions: readonly string[]) {
  return strictObject(
    {
      name: z
        .string({ error: "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit" })
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
          error: "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
        }),
      location: regionSchema(additionalRegions),
      endpoint: endpointSchema,
      resourceId: resourceIdSchema,
      priority: priorityOrWeight("a priority (lower is preferred)"),
      weight: priorityOrWeight("a weight"),
      deployments: z
        .array(deploymentNameSchema, { error: "a list of the deployment names this account hosts" })
        .min(1, { error: "a list of at least one deployment name this account hosts" }),
      nearGateways: nearGatewaysSchema(additionalRegions),
      tokensPerMinute: safeRecord(
        int(1, 1_000_000_000, "a whole number of tokens per minute ≥ 1"),
        "a map from deployment name to the tokens per minute it serves on this account",
      ).optional(),
    },
    "an object { name, location, endpoint, resourceId, priority?, weight?, deployments, nearGateways?, tokensPerMinute? }",
  ).superRefine((backend, ctx) => {
    const capacityKeys = Object.keys(backend.tokensPerMinute ?? {});
    const repeats = firstSpellings(capacityKeys);
    capacityKeys.forEach((deployment, i) => {
      if (!backend.deployments.some((d) => sameName(d, deployment))) {
        ctx.addIssue({
          code: "custom",
          path: ["tokensPerMinute", deployment],
          input: deployment,
          message: `a deployment this backend hosts: one of ${backend.deployments.join(", ")}`,
        });
      }
      const first = repeats[i];
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["tokensPerMinute", deployment],
          input: deployment,
          message: `one figure per deployment: "${capacityKeys[first]}" already names it (names are case-insensitive)`,
        });
      }
    });
    const listed = firstSpellings(backend.deployments);
    backend.deployments.forEach((d, i) => {
      const first = listed[i];
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["deployments", i],
          input: d,
          message: `a deployment not already listed as deployments[${first}] (names are case-insensitive in Azure)`,
        });
      }
    });
  });
}

/** The whole args object of ApimGateway. */
export function gatewayArgsSchema(args: unknown) {
  const additionalRegions = declaredRegions((args as { additionalRegions?: unknown } | undefined)?.additionalRegions);
  return strictObject(
    {
      resourceGroupName: inputText("a resource group name"),
      location: regionSchema(additionalRegions).optional(),
      sku: apimSkuSchema,
      publisherEmail: publisherEmailSchema,
      publisherName: publisherNameSchema,
      backends: z
        .array(backendSchema(additionalRegions), { error: `a list of 1 to ${MAX_POOL_MEMBERS} backends` })
        .min(1, { error: `a list of 1 to ${MAX_POOL_MEMBERS} backends` })
        .max(MAX_POOL_MEMBERS, { error: `at most ${MAX_POOL_MEMBERS} backends (an APIM pool's limit)` }),
      circuitBreaker: circuitBreakerSchema.default(circuitBreakerSchema.parse({})),
      retry: retryArgsSchema.default(retryArgsSchema.parse({})),
      apiPath: apiPathSchema,
      specUrl: specUrlSchema,
      backendTimeoutSeconds: backendTimeoutSchema,
      monitoring: monitoringSchema.default(monitoringSchema.parse({})),
      alerts: alertsSchema.optional(),
      tokenLimit: tokenLimitSchema.optional(),
      clientAuth: clientAuthSchema.default(clientAuthSchema.parse({})),
      teams: teamsSchema,
      zones: zonesSchema,
      additionalLocations: additionalLocationsSchema(additionalRegions),
      network: apimNetworkSchema.optional(),
      tags: tagsInput.optional(),
      additionalRegions: additionalRegionsSchema,
    },
    "an object { resourceGroupName, sku, publisherEmail, publisherName, backends, ... }",
  ).superRefine((parsed, ctx) => {
    const seen = new Map<string, number>();
    parsed.backends.forEach((backend, i) => {
      const key = backend.name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["backends", i, "name"],
          input: backend.name,
          message: `a name not used by backends[${first}] (APIM backend ids are case-insensitive)`,
        });
      }
      seen.set(key, i);
    });
    checkAlerts(parsed.alerts, parsed.monitoring.enabled, ctx, ["alerts"], "monitoring.enabled");
    const deployments = [...new Set(parsed.backends.flatMap((b) => b.deployments))];
    checkTeams(parsed.teams, { deployments, entraId: !!parsed.clientAuth.entraId, sku: parsed.sku.name }, ctx);
    checkGatewayNetwork(
      parsed.network,
      parsed.sku.name,
      ctx,
      (parsed.additionalLocations ?? []).map((l) => l.location),
    );
    checkGatewayRegions({ ...parsed, sku: parsed.sku.name, capacity: parsed.sku.capacity }, ctx, {
      zones: ["zones"],
      capacity: ["sku", "capacity"],
      additionalLocations: ["additionalLocations"],
      location: ["location"],
    });
    const regions = gatewayRegionsOf(parsed.location, parsed.additionalLocations);
    checkNearGateways(parsed.backends, regions, ctx, (i, j) => ["backends", i, "nearGateways", j]);
  });
}

export type ParsedGatewayArgs = z.output<ReturnType<typeof gatewayArgsSchema>>;
export type ParsedBreaker = z.output<typeof circuitBreakerSchema>;
export type ParsedRetry = z.output<typeof retryArgsSchema>;

/** The backend entity's breaker, in the shape of API version 2024-05-01 (exactly one rule). */
export function circuitBreakerRule(breaker: ParsedBreaker): apimanagement.BackendArgs["circuitBreaker"] {
  if (!breaker.enabled) {
    return undefined;
  }
  return {
    rules: [
      {
        name: "openai-breaker",
        failureCondition: {
          count: breaker.failureCount,
          percentage: breaker.failurePercentage,
          interval: breaker.interval,
          statusCodeRanges: breaker.statusCodes.map((r) => ({ min: r.min, max: r.max })),
        },
        tripDuration: breaker.tripDuration,
        acceptRetryAfter: breaker.acceptRetryAfter,
      },
    ],
  };
}

/**
 * The retry the policy performs, with every default applied. Without a count, a request may try
 * every pool member once: pool size minus one retries, since each attempt lets the pool pick a
 * member whose breaker is still closed.
 */
export function resolveRetryPolicy(retry: ParsedRetry, poolSize: number): RetryPolicy {
  return {
    count: retry.count ?? Math.max(poolSize - 1, 0),
    intervalSeconds: retry.intervalSeconds,
    deltaSeconds: retry.deltaSeconds,
    maxIntervalSeconds: retry.maxIntervalSeconds,
    firstFastRetry: retry.firstFastRetry,
    statusCodes: [...retry.statusCodes],
  };
}

/** `https://x.openai.azure.com/` or without the slash -> `https://x.openai.azure.com/openai`. */
export function backendUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/openai`;
}
