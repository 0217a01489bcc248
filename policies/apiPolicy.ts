import { COGNITIVE_SERVICES_AUDIENCE } from "../common/azureOpenAi";
import { parseIsoDuration } from "../common/duration";
import { assertWellFormed, escapeXml, loadTemplate, render } from "./template";

/** Audience of the Entra ID token APIM's managed identity presents to Azure OpenAI. */
export const COGNITIVE_SERVICES_RESOURCE = COGNITIVE_SERVICES_AUDIENCE;

/**
 * Azure Monitor allows 10 dimensions per custom metric and APIM uses 5 of them for its own
 * (region, service id/name/type...), which leaves 5 for a policy.
 */
export const MAX_CUSTOM_METRIC_DIMENSIONS = 5;

/** The gateway's retry around `forward-request`, with every default applied. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 forwards once. */
  count: number;
  intervalSeconds: number;
  /** With `intervalSeconds`: linear back-off; with `maxIntervalSeconds` too: exponential. */
  deltaSeconds?: number;
  maxIntervalSeconds?: number;
  /** The first retry goes out at once, whatever the interval. */
  firstFastRetry: boolean;
  /** Backend status codes that are retried. */
  statusCodes: number[];
}

/**
 * Retry-After (seconds) the policy's on-error section gives a 429/503 that has none, such as the
 * pool's own 503 when every breaker is open: the breaker's trip duration (ISO-8601, default one
 * minute), rounded up to whole seconds.
 */
export function fallbackRetryAfterSeconds(tripDuration: string): number {
  return Math.ceil((parseIsoDuration(tripDuration) ?? 60_000) / 1000);
}

/** The retry condition as an APIM policy expression (no characters that need XML escaping). */
export function retryCondition(statusCodes: readonly number[]): string {
  const tests = statusCodes.map((code) => `context.Response.StatusCode == ${code}`).join(" || ");
  return `@(context.Response != null ? (${tests}) : false)`;
}

/** A dimension of the token metric; without a value APIM fills in one of its default dimensions. */
export interface MetricDimension {
  name: string;
  value?: string;
}

/**
 * The deployment a request names, lower-cased (Azure treats deployment names case-insensitively): the
 * `deployment-id` path parameter of the classic routes. GetValueOrDefault, because MatchedParameters
 * throws on a missing key and not every operation has the parameter.
 */
export const DEPLOYMENT_EXPRESSION =
  '@(context.Request.MatchedParameters.GetValueOrDefault("deployment-id", "").ToLowerInvariant())';

/**
 * Dimensions that split token usage by subscription, API and deployment. The policy runs in inbound,
 * before the pool picks a member, so no dimension can name the account that answered; per-account
 * token figures come from each account's own metrics (docs/operations.md).
 */
export const DEFAULT_TOKEN_METRIC_DIMENSIONS: readonly MetricDimension[] = [
  { name: "Subscription ID" },
  { name: "API ID" },
  { name: "Deployment", value: '@((string)context.Variables["deployment"])' },
];

/** Which pool serves a deployment. */
export interface PolicyRoute {
  /** Deployment name as clients send it (compared case-insensitively). */
  deployment: string;
  /** APIM backend id of the deployment's pool. */
  poolId: string;
}

/** Deployment names Azure accepts; nothing in them needs quoting inside a C# string literal. */
const SAFE_DEPLOYMENT = /^[A-Za-z0-9._-]+$/;

/** Azure OpenAI's answer to a deployment the resource does not have, listing what this gateway serves. */
export function deploymentNotFoundBody(routes: readonly PolicyRoute[]): string {
  return JSON.stringify({
    error: {
      code: "DeploymentNotFound",
      message: `The API deployment for this resource does not exist. This gateway serves: ${routes.map((r) => r.deployment).join(", ")}.`,
    },
  });
}

export interface TokenMetricOptions {
  /** Custom metric namespace in Application Insights. */
  namespace: string;
  dimensions?: readonly MetricDimension[];
}

export interface TokenLimitOptions {
  tokensPerMinute: number;
  estimatePromptTokens: boolean;
}

/**
 * How long forward-request waits for a backend's response headers. Microsoft documents 300 s as the
 * default and says values above 240 s may not be honoured (idle connections are dropped after about
 * four minutes): forward-request-policy.md. A long non-streamed generation sends its headers only at
 * the end, so the default is the longest that is honoured.
 */
export const DEFAULT_BACKEND_TIMEOUT_SECONDS = 240;

export interface ApiPolicyOptions {
  /** The pool of each deployment; a request for any other deployment gets a 404 from the gateway. */
  routes: readonly PolicyRoute[];
  retry: RetryPolicy;
  /** forward-request timeout in seconds (waiting for the backend's response headers). */
  timeoutSeconds?: number;
  /** Retry-After given to clients on a 429/503 that has none (e.g. every breaker open). */
  retryAfterSeconds: number;
  /** Token audience; default Cognitive Services. */
  managedIdentityResource?: string;
  /** Emit token usage metrics to Application Insights. */
  tokenMetric?: TokenMetricOptions;
  /** Limit tokens per minute per subscription key. */
  tokenLimit?: TokenLimitOptions;
}

/**
 * An attribute whose value may hold double quotes (policy expressions with string literals): XML
 * allows them inside a single-quoted attribute, which keeps the expression readable. APIM accepts
 * single-quoted attributes and stores them double-quoted (Azure-Samples/AI-Gateway's finops-framework
 * lab renders its policies this way; ronaldbosma.github.io, "validate APIM policies with PSRule").
 */
function attribute(name: string, value: string): string {
  if (value.includes('"') && !value.includes("'")) {
    return `${name}='${value.replace(/&/g, "&amp;").replace(/</g, "&lt;")}'`;
  }
  return `${name}="${escapeXml(value)}"`;
}

function renderForward(options: ApiPolicyOptions): string {
  const { retry } = options;
  const timeout = options.timeoutSeconds ?? DEFAULT_BACKEND_TIMEOUT_SECONDS;
  if (retry.count === 0) {
    return render(loadTemplate("forward.xml"), { timeout });
  }
  const backoff = [
    retry.deltaSeconds !== undefined ? ` delta="${retry.deltaSeconds}"` : "",
    retry.maxIntervalSeconds !== undefined ? ` max-interval="${retry.maxIntervalSeconds}"` : "",
  ].join("");
  return render(
    loadTemplate("retry.xml"),
    {
      condition: retryCondition(retry.statusCodes),
      count: retry.count,
      interval: retry.intervalSeconds,
      firstFastRetry: retry.firstFastRetry,
      timeout,
    },
    { backoff },
  );
}

function renderTokenMetric(metric: TokenMetricOptions | undefined): string {
  if (!metric) {
    return "";
  }
  const dimensions = metric.dimensions ?? DEFAULT_TOKEN_METRIC_DIMENSIONS;
  if (dimensions.length === 0 || dimensions.length > MAX_CUSTOM_METRIC_DIMENSIONS) {
    throw new Error(
      `token metric: ${dimensions.length} dimensions given; allowed: 1 to ${MAX_CUSTOM_METRIC_DIMENSIONS} (Azure Monitor's limit after APIM's own)`,
    );
  }
  const lines = dimensions.map(
    (d) =>
      `            <dimension ${attribute("name", d.name)}${d.value === undefined ? "" : ` ${attribute("value", d.value)}`} />`,
  );
  return render(loadTemplate("token-metric.xml"), { namespace: metric.namespace }, { dimensions: lines.join("\n") });
}

function renderTokenLimit(limit: TokenLimitOptions | undefined): string {
  return limit
    ? render(loadTemplate("token-limit.xml"), {
        tokensPerMinute: limit.tokensPerMinute,
        estimatePromptTokens: limit.estimatePromptTokens,
      })
    : "";
}

/** The choose that sets the `pool` variable from the `deployment` variable, or answers 404. */
function renderRouting(routes: readonly PolicyRoute[]): string {
  if (routes.length === 0) {
    throw new Error("API policy: no routes; the gateway needs at least one deployment");
  }
  const lines = routes.map((route) => {
    if (!SAFE_DEPLOYMENT.test(route.deployment)) {
      throw new Error(`API policy: deployment name ${JSON.stringify(route.deployment)} cannot be routed`);
    }
    return render(loadTemplate("route.xml"), { deployment: route.deployment.toLowerCase(), poolId: route.poolId });
  });
  return render(
    loadTemplate("routing.xml"),
    { notFoundBody: deploymentNotFoundBody(routes) },
    { routes: lines.join("\n") },
  );
}

/** The API-scope policy of the OpenAI API, checked to be well-formed XML. */
export function renderApiPolicy(options: ApiPolicyOptions): string {
  const xml = render(
    loadTemplate("openai-api.xml"),
    {
      managedIdentityResource: options.managedIdentityResource ?? COGNITIVE_SERVICES_RESOURCE,
      retryAfterSeconds: options.retryAfterSeconds,
    },
    {
      deploymentVariable: `        <set-variable name="deployment" ${attribute("value", DEPLOYMENT_EXPRESSION)} />`,
      routing: renderRouting(options.routes),
      tokenLimit: renderTokenLimit(options.tokenLimit),
      tokenMetric: renderTokenMetric(options.tokenMetric),
      forward: renderForward(options),
    },
  );
  assertWellFormed(xml, "the rendered API policy");
  return xml;
}
