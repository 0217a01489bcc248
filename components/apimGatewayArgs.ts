import * as pulumi from "@pulumi/pulumi";
import type * as apimanagement from "@pulumi/azure-native/apimanagement";
import { z } from "zod";
import {
  apiPathSchema,
  apimSkuSchema,
  circuitBreakerSchema,
  MAX_INSTANCES,
  monitoringSchema,
  publisherEmailSchema,
  publisherNameSchema,
  regionSchema,
  retrySchema,
  specUrlSchema,
  strictObject,
  tokenLimitSchema,
} from "./config";
import type { GatewayMonitoringArgs } from "./gatewayMonitoring";

/*
 * The public args of ApimGateway and their validation. Plain interfaces without union types, so
 * Pulumi's analyzer can turn them into a schema for other languages.
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
  /** Retries after the first attempt, 0-50; default number of backends - 1. */
  count?: number;
  /** Seconds between retries; default 0. */
  intervalSeconds?: number;
  /** Linear/exponential back-off step in seconds. */
  deltaSeconds?: number;
  /** Upper bound of exponential back-off in seconds. */
  maxIntervalSeconds?: number;
  /** First retry immediately; default true. */
  firstFastRetry?: boolean;
  /** Backend status codes that are retried; default [429, 503]. */
  statusCodes?: number[];
}

/** A token budget per subscription key. */
export interface TokenLimitArgs {
  /** Prompt and completion tokens per minute per subscription key. */
  tokensPerMinute: number;
  /** Count prompt tokens before forwarding (rejects early, costs gateway CPU); default true. */
  estimatePromptTokens?: boolean;
}

export interface ApimGatewayArgs {
  /** Resource group of the APIM instance. */
  resourceGroupName: pulumi.Input<string>;
  /** Region of the APIM instance; default the provider's location. */
  location?: pulumi.Input<string>;
  /** APIM tier and units. */
  sku: ApimSkuArgs;
  /** E-mail for APIM system notifications. */
  publisherEmail: string;
  /** Organisation name shown in the developer portal. */
  publisherName: string;
  /** The Azure OpenAI accounts to balance over, 1 to 30. */
  backends: ApimBackendArgs[];
  /** The breaker rule of every backend. */
  circuitBreaker?: CircuitBreakerArgs;
  /** Retry settings of the API policy. */
  retry?: RetryArgs;
  /** Path of the inference API under the gateway URL; default `openai`. */
  apiPath?: string;
  /** Import the API from this https link (OpenAPI 3 JSON) instead of the bundled document. */
  specUrl?: string;
  /** Log Analytics, Application Insights, APIM diagnostics and token metrics; on by default. */
  monitoring?: GatewayMonitoringArgs;
  /** Limit tokens per minute per subscription key (azure-openai-token-limit). */
  tokenLimit?: TokenLimitArgs;
  /** Tags of the APIM instance and the monitoring resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Region names to accept in addition to the built-in list. */
  additionalRegions?: string[];
}

const endpointSchema = z.custom<pulumi.Input<string>>(
  (value) => pulumi.Output.isInstance(value) || (typeof value === "string" && /^https:\/\/[^/]+/.test(value)),
  { error: "an https:// endpoint such as https://my-account.openai.azure.com/" },
);
const resourceIdSchema = z.custom<pulumi.Input<string>>(
  (value) =>
    pulumi.Output.isInstance(value) ||
    (typeof value === "string" &&
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/]+$/i.test(
        value,
      )),
  {
    error:
      "the ARM id of a Cognitive Services account (/subscriptions/…/providers/Microsoft.CognitiveServices/accounts/<name>)",
  },
);
const priorityOrWeight = (what: string) =>
  z
    .number({ error: `${what}: an integer from 0 to 100` })
    .int({ error: `${what}: an integer from 0 to 100` })
    .min(0, { error: `${what}: an integer from 0 to 100` })
    .max(100, { error: `${what}: an integer from 0 to 100` })
    .default(1);

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
    },
    "an object { name, location, endpoint, resourceId, priority?, weight? }",
  );
}

export function argsSchema(additionalRegions: readonly string[]) {
  return z
    .object({
      sku: apimSkuSchema,
      publisherEmail: publisherEmailSchema,
      publisherName: publisherNameSchema,
      backends: z
        .array(backendSchema(additionalRegions), { error: `a list of 1 to ${MAX_INSTANCES} backends` })
        .min(1, { error: `a list of 1 to ${MAX_INSTANCES} backends` })
        .max(MAX_INSTANCES, { error: `at most ${MAX_INSTANCES} backends (an APIM pool's limit)` }),
      circuitBreaker: circuitBreakerSchema.default(circuitBreakerSchema.parse({})),
      retry: retrySchema.default(retrySchema.parse({})),
      apiPath: apiPathSchema,
      specUrl: specUrlSchema,
      monitoring: monitoringSchema.default(monitoringSchema.parse({})),
      tokenLimit: tokenLimitSchema.optional(),
    })
    .superRefine((args, ctx) => {
      const seen = new Map<string, number>();
      args.backends.forEach((backend, i) => {
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
    });
}

export type ParsedArgs = z.output<ReturnType<typeof argsSchema>>;
type ParsedBreaker = ParsedArgs["circuitBreaker"];

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

/** `https://x.openai.azure.com/` or without the slash -> `https://x.openai.azure.com/openai`. */
export function backendUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/openai`;
}
