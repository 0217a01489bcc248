import * as pulumi from "@pulumi/pulumi";
import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as authorization from "@pulumi/azure-native/authorization";
import * as random from "@pulumi/random";
import { z } from "zod";
import { inferenceSpec, prepareSpec } from "../openapi/spec";
import {
  fallbackRetryAfterSeconds,
  renderApiPolicy,
  resolveRetryPolicy,
  type RetryPolicy,
} from "../policies/apiPolicy";
import { createGatewayMonitoring, TOKEN_METRIC_NAMESPACE, type GatewayMonitoringArgs } from "./gatewayMonitoring";
import {
  apiPathSchema,
  apimSkuSchema,
  circuitBreakerSchema,
  MAX_INSTANCES,
  monitoringSchema,
  parseArgs,
  parseIsoDuration,
  publisherEmailSchema,
  publisherNameSchema,
  regionSchema,
  retrySchema,
  specUrlSchema,
  strictObject,
  tokenLimitSchema,
} from "./config";
import { APIM_NAME_MAX_LENGTH, deterministicGuid, dnsLabel, uniqueName } from "./naming";

/** Built-in role "Cognitive Services OpenAI User": call inference APIs, nothing else. */
export const OPENAI_USER_ROLE_ID = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";

/** APIM on a classic tier takes 30-90 minutes to create; Pulumi must not give up first. */
export const APIM_TIMEOUTS: pulumi.CustomTimeouts = { create: "3h", update: "3h", delete: "3h" };

/** TLS 1.0/1.1 and SSL 3.0 off, client and backend side; classic tiers only (v2 tiers refuse changes). */
const CLASSIC_TLS_HARDENING: Record<string, string> = Object.fromEntries(
  [
    "Protocols.Tls10",
    "Protocols.Tls11",
    "Protocols.Ssl30",
    "Backend.Protocols.Tls10",
    "Backend.Protocols.Tls11",
    "Backend.Protocols.Ssl30",
  ].map((setting) => [`Microsoft.WindowsAzure.ApiManagement.Gateway.Security.${setting}`, "False"]),
);
const CLASSIC_TIERS = ["Developer", "Basic", "Standard", "Premium"];

/** APIM entity ids inside the gateway's own service. */
export const POOL_BACKEND_ID = "openai-pool";
export const API_ID = "openai";
export const PRODUCT_ID = "openai";
export const SUBSCRIPTION_ID = "openai-default";

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

function argsSchema(additionalRegions: readonly string[]) {
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

type ParsedArgs = z.output<ReturnType<typeof argsSchema>>;
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

/**
 * API Management in front of Azure OpenAI accounts: one circuit-breaker backend per account, a
 * priority/weight pool over them, the inference API with a keyless (managed identity) policy, and a
 * product with one subscription.
 */
export class ApimGateway extends pulumi.ComponentResource {
  /** The API Management instance. */
  public readonly service: apimanagement.ApiManagementService;
  /** One Single backend per account, in the order given. */
  public readonly backends: apimanagement.Backend[];
  /** The Pool backend the API policy routes to. */
  public readonly pool: apimanagement.Backend;
  /** "Cognitive Services OpenAI User" for the gateway identity on each account. */
  public readonly roleAssignments: authorization.RoleAssignment[];
  /** The inference API. */
  public readonly api: apimanagement.Api;
  /** The API policy (managed identity, pool routing, retries). */
  public readonly apiPolicy: apimanagement.ApiPolicy;
  /** The product clients subscribe to. */
  public readonly product: apimanagement.Product;
  /** The default subscription. */
  public readonly subscription: apimanagement.Subscription;
  /** Base URL of the gateway, e.g. `https://<name>.azure-api.net`. */
  public readonly gatewayUrl: pulumi.Output<string>;
  /** What clients use as the Azure OpenAI endpoint: `https://<name>.azure-api.net/<apiPath>`. */
  public readonly endpoint: pulumi.Output<string>;
  /** Primary key of the default subscription (secret). */
  public readonly subscriptionKey: pulumi.Output<string>;
  /** Principal id of the gateway's system-assigned identity. */
  public readonly principalId: pulumi.Output<string>;
  /** The API policy as deployed. */
  public readonly policyXml: pulumi.Output<string>;
  /** The retry the policy performs (what the resilience simulator models). */
  public readonly retryPolicy: pulumi.Output<RetryPolicy>;
  /** Log Analytics workspace receiving APIM and OpenAI logs (undefined with monitoring off). */
  public readonly workspaceId: pulumi.Output<string | undefined>;
  /** Application Insights component name (undefined with monitoring off). */
  public readonly appInsightsName: pulumi.Output<string | undefined>;
  /** Application Insights connection string, secret (undefined with monitoring off). */
  public readonly appInsightsConnectionString: pulumi.Output<string | undefined>;

  constructor(name: string, args: ApimGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super() registers the component: bad args must not register anything.
    const parsed = parseArgs("ApimGateway", name, argsSchema(args.additionalRegions ?? []), args);
    super("openai-apim:index:ApimGateway", name, {}, opts);

    // Kept in state: every run reuses it. Renaming this child (or any below) needs an alias, or
    // Pulumi replaces it, and a new APIM name means a new 30-90 minute instance.
    const suffix = new random.RandomString(
      `${name}-suffix`,
      { length: 6, special: false, upper: false, numeric: true, lower: true },
      { parent: this },
    );
    // APIM names must start with a letter.
    const prefix = /^[a-z]/.test(dnsLabel(name, 1)) ? name : `apim-${name}`;
    const serviceName = suffix.result.apply((s) => uniqueName(prefix, "", s, APIM_NAME_MAX_LENGTH));

    this.service = new apimanagement.ApiManagementService(
      `${name}-service`,
      {
        resourceGroupName: args.resourceGroupName,
        serviceName,
        location: args.location,
        sku: { name: parsed.sku.name, capacity: parsed.sku.capacity },
        identity: { type: "SystemAssigned" },
        publisherEmail: parsed.publisherEmail,
        publisherName: parsed.publisherName,
        customProperties: CLASSIC_TIERS.includes(parsed.sku.name) ? CLASSIC_TLS_HARDENING : undefined,
        tags: args.tags,
      },
      { parent: this, customTimeouts: APIM_TIMEOUTS },
    );
    const service = { resourceGroupName: args.resourceGroupName, serviceName: this.service.name };
    this.principalId = this.service.identity.apply((identity) => {
      if (!identity?.principalId) {
        throw new Error(`ApimGateway "${name}": the APIM instance reported no system-assigned identity`);
      }
      return identity.principalId;
    });

    const client = authorization.getClientConfigOutput({ parent: this });
    const roleDefinitionId = pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER_ROLE_ID}`;

    this.roleAssignments = [];
    this.backends = [];
    parsed.backends.forEach((backend, i) => {
      const source = args.backends[i];
      this.roleAssignments.push(
        new authorization.RoleAssignment(
          `${name}-openai-user-${backend.name}`,
          {
            scope: source.resourceId,
            principalId: this.principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId,
            // Same scope, principal and role -> same name on every run, so no duplicate assignment.
            roleAssignmentName: pulumi
              .all([source.resourceId, this.principalId])
              .apply(([scope, principal]) => deterministicGuid(scope, principal, OPENAI_USER_ROLE_ID)),
            description: `Lets the API Management gateway "${name}" call Azure OpenAI with its managed identity.`,
          },
          { parent: this },
        ),
      );
      this.backends.push(
        new apimanagement.Backend(
          `${name}-backend-${backend.name}`,
          {
            ...service,
            backendId: `openai-${backend.name}`,
            type: "Single",
            protocol: "http",
            url: pulumi.output(source.endpoint).apply(backendUrl),
            title: `Azure OpenAI ${backend.name}`,
            description: `Azure OpenAI in ${backend.location}, priority ${backend.priority}, weight ${backend.weight}`,
            circuitBreaker: circuitBreakerRule(parsed.circuitBreaker),
            tls: { validateCertificateChain: true, validateCertificateName: true },
          },
          { parent: this },
        ),
      );
    });

    this.pool = new apimanagement.Backend(
      `${name}-pool`,
      {
        ...service,
        backendId: POOL_BACKEND_ID,
        type: "Pool",
        title: "Azure OpenAI pool",
        description:
          "Lower priority numbers are preferred; a lower priority takes traffic only when every breaker above it is open.",
        pool: {
          services: this.backends.map((backend, i) => ({
            id: backend.id,
            priority: parsed.backends[i].priority,
            weight: parsed.backends[i].weight,
          })),
        },
      },
      { parent: this },
    );

    this.api = new apimanagement.Api(
      `${name}-api`,
      {
        ...service,
        apiId: API_ID,
        displayName: "Azure OpenAI",
        description: "Azure OpenAI inference, load-balanced over several instances.",
        path: parsed.apiPath,
        protocols: ["https"],
        apiType: "http",
        subscriptionRequired: true,
        // The Azure OpenAI SDKs send their key as api-key: they work unchanged against the gateway.
        subscriptionKeyParameterNames: { header: "api-key", query: "api-key" },
        // Keep api-version a plain query parameter, so new API versions need no re-import.
        translateRequiredQueryParametersConduct: "query",
        format: parsed.specUrl ? "openapi+json-link" : "openapi+json",
        value: parsed.specUrl ?? JSON.stringify(prepareSpec(inferenceSpec(), { title: "Azure OpenAI" })),
      },
      { parent: this },
    );

    const monitoring = parsed.monitoring.enabled
      ? createGatewayMonitoring(
          {
            name,
            parent: this,
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            tags: args.tags,
            suffix: suffix.result,
            service: this.service,
            accounts: parsed.backends.map((backend, i) => ({
              name: backend.name,
              resourceId: args.backends[i].resourceId,
            })),
          },
          parsed.monitoring,
        )
      : undefined;
    this.workspaceId = pulumi.output(monitoring?.workspaceId);
    this.appInsightsName = pulumi.output(monitoring?.appInsightsName);
    this.appInsightsConnectionString = pulumi.secret(pulumi.output(monitoring?.appInsightsConnectionString));

    const retry = resolveRetryPolicy(parsed.retry, parsed.backends.length);
    const tripMs = parseIsoDuration(parsed.circuitBreaker.tripDuration) ?? 60_000;
    const policyXml = renderApiPolicy({
      poolBackendId: POOL_BACKEND_ID,
      retry,
      retryAfterSeconds: fallbackRetryAfterSeconds(tripMs),
      // Token metrics need the diagnostic's metrics switch, so they come with monitoring.
      tokenMetric: monitoring ? { namespace: TOKEN_METRIC_NAMESPACE } : undefined,
      tokenLimit: parsed.tokenLimit,
    });
    this.policyXml = pulumi.output(policyXml);
    this.retryPolicy = pulumi.output(retry);
    this.apiPolicy = new apimanagement.ApiPolicy(
      `${name}-api-policy`,
      { ...service, apiId: this.api.name, policyId: "policy", format: "rawxml", value: policyXml },
      // APIM refuses a policy naming a backend that does not exist yet; and the identity should hold
      // its role before traffic flows.
      { parent: this, dependsOn: [this.pool, ...this.roleAssignments] },
    );

    this.product = new apimanagement.Product(
      `${name}-product`,
      {
        ...service,
        productId: PRODUCT_ID,
        displayName: "Azure OpenAI",
        description: "Access to the load-balanced Azure OpenAI API.",
        subscriptionRequired: true,
        approvalRequired: false,
        state: "published",
      },
      { parent: this },
    );
    new apimanagement.ProductApi(
      `${name}-product-api`,
      { ...service, productId: this.product.name, apiId: this.api.name },
      { parent: this },
    );
    this.subscription = new apimanagement.Subscription(
      `${name}-subscription`,
      {
        ...service,
        sid: SUBSCRIPTION_ID,
        displayName: "Default Azure OpenAI subscription",
        scope: pulumi.interpolate`/products/${this.product.name}`,
        state: "active",
        allowTracing: false,
      },
      { parent: this, additionalSecretOutputs: ["primaryKey", "secondaryKey"] },
    );
    // APIM's GET leaves keys out; they come from listSecrets, after the subscription exists.
    const secrets = apimanagement.listSubscriptionSecretsOutput(
      { ...service, sid: this.subscription.name },
      { parent: this },
    );
    this.subscriptionKey = pulumi.secret(
      secrets.apply((s) => {
        if (!s.primaryKey) {
          throw new Error(`ApimGateway "${name}": APIM returned no primary key for subscription ${SUBSCRIPTION_ID}`);
        }
        return s.primaryKey;
      }),
    );

    this.gatewayUrl = this.service.gatewayUrl;
    this.endpoint = pulumi.interpolate`${this.service.gatewayUrl}/${parsed.apiPath}`;

    this.registerOutputs({
      service: this.service,
      backends: this.backends,
      pool: this.pool,
      roleAssignments: this.roleAssignments,
      api: this.api,
      apiPolicy: this.apiPolicy,
      product: this.product,
      subscription: this.subscription,
      gatewayUrl: this.gatewayUrl,
      endpoint: this.endpoint,
      subscriptionKey: this.subscriptionKey,
      principalId: this.principalId,
      policyXml: this.policyXml,
      retryPolicy: this.retryPolicy,
      workspaceId: this.workspaceId,
      appInsightsName: this.appInsightsName,
      appInsightsConnectionString: this.appInsightsConnectionString,
    });
  }
}
