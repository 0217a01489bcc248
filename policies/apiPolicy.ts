import { COGNITIVE_SERVICES_AUDIENCE } from "../common/azureOpenAi";
import { parseIsoDuration } from "../common/duration";
import type { RoutedOperation } from "../common/operationRouting";
import { renderCallerAuth, type CallerAuthOptions } from "./callerAuth";
import {
  renderAccountForward,
  renderClassify,
  renderGatewayAnswers,
  renderResponsesLookup,
  renderResponsesStore,
  renderRouting,
  OWNER_UNAVAILABLE_BODY,
  type PolicyAccount,
  type PolicyRoute,
} from "./requestRouting";
import { renderTeamRules, teamExpression, type PolicyTeam } from "./teamPolicy";
import { assertWellFormed, attribute, escapeXml, indent, loadTemplate, render } from "./template";

export type { CallerAuthOptions, EntraIdCallers } from "./callerAuth";
export type { PolicyAccount, PolicyRoute } from "./requestRouting";
export type { PolicyTeam } from "./teamPolicy";
export { deploymentNotFoundBody, modelsListBody } from "./requestRouting";

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
 * Dimensions that split token usage by subscription, API and deployment. The policy runs in inbound,
 * before the pool picks a member, so no dimension can name the account that answered; per-account
 * token figures come from each account's own metrics (docs/operations.md).
 */
export const DEFAULT_TOKEN_METRIC_DIMENSIONS: readonly MetricDimension[] = [
  { name: "Subscription ID" },
  { name: "API ID" },
  { name: "Deployment", value: '@((string)context.Variables["deployment"])' },
];

/** With teams, which team called (for charge-back). */
export const TEAM_DIMENSION: MetricDimension = { name: "Team", value: '@((string)context.Variables["team"])' };

/** With Entra ID callers, who called: the subscription or the calling application. */
export const CALLER_DIMENSION: MetricDimension = { name: "Caller", value: '@((string)context.Variables["caller"])' };

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
  /** One backend per account, for stored responses (priority order decides the search order). */
  accounts: readonly PolicyAccount[];
  /** The imported API's operations and how each is routed. */
  operations: readonly RoutedOperation[];
  /** Who may call; default: the subscription key only. */
  callerAuth?: CallerAuthOptions;
  retry: RetryPolicy;
  /** forward-request timeout in seconds (waiting for the backend's response headers). */
  timeoutSeconds?: number;
  /** Retry-After given to clients on a 429/503 that has none (e.g. every breaker open). */
  retryAfterSeconds: number;
  /** Token audience; default Cognitive Services. */
  managedIdentityResource?: string;
  /** Emit token usage metrics to Application Insights. */
  tokenMetric?: TokenMetricOptions;
  /** Limit tokens per minute per caller. */
  tokenLimit?: TokenLimitOptions;
  /** Teams: their Entra ID applications' rules live here (key callers get theirs from the team's product policy). */
  teams?: readonly PolicyTeam[];
}

function renderPoolForward(options: ApiPolicyOptions, timeout: number): string {
  const { retry } = options;
  if (retry.count === 0) {
    return render(loadTemplate("forward-pool.xml"), { timeout });
  }
  const backoff = [
    retry.deltaSeconds !== undefined ? ` delta="${retry.deltaSeconds}"` : "",
    retry.maxIntervalSeconds !== undefined ? ` max-interval="${retry.maxIntervalSeconds}"` : "",
  ].join("");
  return render(
    loadTemplate("retry-pool.xml"),
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

/** Stateless calls through their pool; stored-response calls account by account (requestRouting.ts). */
function renderForward(options: ApiPolicyOptions): string {
  const timeout = options.timeoutSeconds ?? DEFAULT_BACKEND_TIMEOUT_SECONDS;
  const largestPool = Math.max(0, ...options.routes.map((r) => r.accounts.length));
  const accountForward = renderAccountForward({
    count: Math.max(options.accounts.length, largestPool) - 1,
    retryCount: options.retry.count,
    statusCodes: options.retry.statusCodes,
    timeout,
  });
  return [
    "        <choose>",
    `            <when condition='@((string)context.Variables["route"] == "pool")'>`,
    indent(renderPoolForward(options, timeout), 16),
    "            </when>",
    "            <otherwise>",
    indent(accountForward, 16),
    "            </otherwise>",
    "        </choose>",
  ].join("\n");
}

function renderTokenMetric(metric: TokenMetricOptions, auth: CallerAuthOptions, teams: readonly PolicyTeam[]): string {
  const dimensions = metric.dimensions ?? [
    ...DEFAULT_TOKEN_METRIC_DIMENSIONS,
    ...(teams.length ? [TEAM_DIMENSION] : []),
    ...(auth.entraId ? [CALLER_DIMENSION] : []),
  ];
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

/**
 * Token limit and metric, for calls that generate or embed: reading or deleting a stored response
 * uses no tokens, and its answer's usage must not be counted twice. With `stream: true` APIM counts
 * estimated prompt and completion tokens (azure-openai-token-limit-policy.md, azure-openai-emit-token-metric-policy.md).
 */
function renderTokenAccounting(options: ApiPolicyOptions, auth: CallerAuthOptions): string {
  const parts: string[] = [];
  if (options.tokenLimit) {
    parts.push(
      render(loadTemplate("token-limit.xml"), {
        tokensPerMinute: options.tokenLimit.tokensPerMinute,
        estimatePromptTokens: options.tokenLimit.estimatePromptTokens,
      }),
    );
  }
  if (options.tokenMetric) {
    parts.push(renderTokenMetric(options.tokenMetric, auth, options.teams ?? []));
  }
  if (parts.length === 0) {
    return "";
  }
  return [
    "        <choose>",
    `            <when condition='@((string)context.Variables["routing"] != "response")'>`,
    ...parts.map((p) => indent(p, 8)),
    "            </when>",
    "        </choose>",
  ].join("\n");
}

const NO_TEAM_BODY = JSON.stringify({
  error: {
    code: "PermissionDenied",
    message: "This application is in no team of this gateway: ask the platform team to add its client id to a team.",
  },
});

/** Sets the `team` variable; with teams of Entra ID applications, refuses an application in none. */
function renderTeam(teams: readonly PolicyTeam[], auth: CallerAuthOptions): string {
  if (teams.length === 0) return "";
  const lines = [
    "<!-- Which team calls: its product (subscription key) or its Entra ID application; charged back by the Team metric dimension. -->",
    `<set-variable name="team" ${attribute("value", teamExpression(teams))} />`,
  ];
  if (auth.entraId && teams.some((t) => t.entraClientIds?.length)) {
    lines.push(
      "<choose>",
      `    <when ${attribute("condition", '@(context.Subscription == null && (string)context.Variables["team"] == "")')}>`,
      "        <return-response>",
      '            <set-status code="403" reason="Forbidden" />',
      '            <set-header name="Content-Type" exists-action="override">',
      "                <value>application/json</value>",
      "            </set-header>",
      `            <set-body>${escapeXml(NO_TEAM_BODY)}</set-body>`,
      "        </return-response>",
      "    </when>",
      "</choose>",
    );
  }
  return indent(lines.join("\n"), 8);
}

/** The rules of teams whose Entra ID applications call without a subscription, counted per team. */
function renderEntraTeams(teams: readonly PolicyTeam[]): string {
  const entra = teams
    .filter((t) => t.entraClientIds?.length)
    .map((t) => ({ team: t, rules: renderTeamRules(t, `@("team:${t.name}")`) }))
    .filter((t) => t.rules);
  if (entra.length === 0) return "";
  const lines = [
    "<!-- A team's Entra ID applications carry no subscription, so no product policy: their team's rules apply here. -->",
    "<choose>",
  ];
  for (const { team, rules } of entra) {
    lines.push(
      `    <when ${attribute("condition", `@(context.Subscription == null && (string)context.Variables["team"] == "${team.name}")`)}>`,
      indent(rules, 8),
      "    </when>",
    );
  }
  lines.push("</choose>");
  return indent(lines.join("\n"), 8);
}

/** The API-scope policy of the OpenAI API, checked to be well-formed XML. */
export function renderApiPolicy(options: ApiPolicyOptions): string {
  const auth = options.callerAuth ?? { subscriptionKey: true };
  const xml = render(
    loadTemplate("openai-api.xml"),
    {
      managedIdentityResource: options.managedIdentityResource ?? COGNITIVE_SERVICES_RESOURCE,
      retryAfterSeconds: options.retryAfterSeconds,
      ownerUnavailableBody: OWNER_UNAVAILABLE_BODY,
    },
    {
      callerAuth: renderCallerAuth(auth),
      classify: renderClassify(options.operations),
      team: renderTeam(options.teams ?? [], auth),
      modelsAnswer: renderGatewayAnswers(options.operations, options.routes, options.teams),
      routing: renderRouting(options.routes, options.accounts),
      entraTeams: renderEntraTeams(options.teams ?? []),
      responsesLookup: renderResponsesLookup(options.accounts),
      tokenAccounting: renderTokenAccounting(options, auth),
      forward: renderForward(options),
      responsesStore: renderResponsesStore(options.retryAfterSeconds),
    },
  );
  assertWellFormed(xml, "the rendered API policy");
  return xml;
}
