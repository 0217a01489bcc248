import type { OperationRouting, RoutedOperation } from "../common/operationRouting";
import type { PolicyTeam } from "./teamPolicy";
import { attribute, indent, loadTemplate, render } from "./template";

/*
 * Where each request goes. Stateless calls go to their deployment's pool. Stored responses (the
 * Responses API) live on the account that created them, so those calls go to accounts one by one,
 * through account backends without a breaker, and the gateway remembers which account stores which
 * response id (docs/clients.md).
 */

/** An account backend (the whole account), with the account's pool priority and weight. */
export interface PolicyAccount {
  backendId: string;
  priority: number;
  weight: number;
}

/** Which pool serves a deployment, and which accounts host it. */
export interface PolicyRoute {
  /** Deployment name as clients send it (compared case-insensitively). */
  deployment: string;
  /** APIM backend id of the deployment's pool (the primary gateway region's). */
  poolId: string;
  /** The account backends of the accounts hosting the deployment, with the primary region's priorities. */
  accounts: readonly PolicyAccount[];
  /** Other gateway regions whose order differs: their pool and priorities. */
  regions?: readonly { region: string; poolId: string; accounts: readonly PolicyAccount[] }[];
}

/**
 * The gateway's region as Azure's short name: `context.Deployment.Region` is the display name ("West
 * Europe": api-management-howto-deploy-multi-region.md), so spaces go and case is folded.
 */
export const GATEWAY_REGION_EXPRESSION = '@(context.Deployment.Region.Replace(" ", "").ToLowerInvariant())';

const SAFE_REGION = /^[a-z0-9]+$/;

/** A value per gateway region: a literal when every region agrees, else a switch on the region. */
function perRegion(primary: string, regions: readonly { region: string; value: string }[]): string {
  const differing = regions.filter((r) => r.value !== primary);
  if (differing.length === 0) return primary;
  for (const r of differing) {
    if (!SAFE_REGION.test(r.region)) throw new Error(`API policy: region ${JSON.stringify(r.region)} cannot be routed`);
  }
  const cases = differing.map((r) => `case "${r.region}": return "${r.value}";`).join(" ");
  return `@{ switch ((string)context.Variables["gatewayRegion"]) { ${cases} default: return "${primary}"; } }`;
}

/** Cache keys of response ownership: this prefix and the response id. */
export const RESPONSE_OWNER_KEY_PREFIX = "openai-apim-response:";

/**
 * How long the gateway remembers a response's account: as long as Azure OpenAI keeps a stored
 * response, 30 days ("By default, response data is retained for 30 days": Azure OpenAI how-to,
 * responses.md, "Delete response").
 */
export const RESPONSE_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/** Deployment names Azure accepts; nothing in them needs quoting inside a C# string literal. */
const SAFE_DEPLOYMENT = /^[A-Za-z0-9._-]+$/;
/** Backend ids this project creates ([a-z0-9._-]); the policy joins them with ',' and ':'. */
const SAFE_BACKEND_ID = /^[a-z0-9._-]+$/;
/** URL templates the classification compares; '|' separates them. */
const SAFE_TEMPLATE = /^\/[A-Za-z0-9/_{}.-]*$/;

function error(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Azure OpenAI's answer to a deployment the resource does not have, listing what this gateway serves. */
export function deploymentNotFoundBody(routes: readonly PolicyRoute[]): string {
  return error(
    "DeploymentNotFound",
    `The API deployment for this resource does not exist. This gateway serves: ${routes.map((r) => r.deployment).join(", ")}.`,
  );
}

export const MISSING_MODEL_BODY = error(
  "BadRequest",
  "The request body must name a deployment in model (a JSON object with a model string). GET v1/models lists the deployments this gateway serves.",
);

export const OWNER_UNAVAILABLE_BODY = error(
  "ResponseOwnerUnavailable",
  "The Azure OpenAI account that stores this response did not answer. The gateway does not send the call to another account, which would not know the response; retry after Retry-After seconds.",
);

/** `GET v1/models`, as OpenAI lists models: what a client may put in `model`. */
export function modelsListBody(routes: readonly PolicyRoute[]): string {
  return JSON.stringify({
    object: "list",
    data: routes.map((route) => ({ id: route.deployment, object: "model", created: 0, owned_by: "openai-apim" })),
  });
}

/** The models answer: every routed deployment, or for a team limited to some, only those. */
function modelsAnswer(routes: readonly PolicyRoute[], teams: readonly PolicyTeam[]): string {
  const answer = (list: readonly PolicyRoute[]) =>
    render(loadTemplate("models-answer.xml"), { body: modelsListBody(list) });
  const limited = teams.filter((t) => t.deployments);
  if (limited.length === 0) return indent(answer(routes), 16);
  const lines = ["<choose>"];
  for (const team of limited) {
    const allowed = team.deployments!.map((d) => d.toLowerCase());
    lines.push(
      `    <when ${attribute("condition", `@(context.Variables.GetValueOrDefault<string>("team", "") == "${team.name}")`)}>`,
      indent(answer(routes.filter((r) => allowed.includes(r.deployment.toLowerCase()))), 8),
      "    </when>",
    );
  }
  lines.push("    <otherwise>", indent(answer(routes), 8), "    </otherwise>", "</choose>");
  return indent(lines.join("\n"), 16);
}

function checkBackendId(id: string): string {
  if (!SAFE_BACKEND_ID.test(id)) throw new Error(`API policy: backend id ${JSON.stringify(id)} cannot be routed`);
  return id;
}

/**
 * `backend:priority:weight,...` by priority (stable, so equal priorities keep their order): what the
 * policy's candidate expression reads, tier by tier.
 */
function members(accounts: readonly PolicyAccount[]): string {
  return [...accounts]
    .sort((a, b) => a.priority - b.priority)
    .map((a) => `${checkBackendId(a.backendId)}:${a.priority}:${a.weight}`)
    .join(",");
}

function templates(operations: readonly RoutedOperation[], routing: OperationRouting): string {
  const paths = [...new Set(operations.filter((o) => o.routing === routing).map((o) => o.path))];
  for (const path of paths) {
    if (!SAFE_TEMPLATE.test(path))
      throw new Error(`API policy: URL template ${JSON.stringify(path)} cannot be classified`);
  }
  return paths.length === 0 ? "" : `|${paths.join("|")}|`;
}

/** Sets `routing`, `deployment` and `responseId` for the request. */
export function renderClassify(operations: readonly RoutedOperation[]): string {
  const byPath = new Map<string, OperationRouting>();
  for (const op of operations) {
    const seen = byPath.get(op.path);
    if (seen && seen !== op.routing) {
      throw new Error(`API policy: ${op.path} is routed both as ${seen} and as ${op.routing}`);
    }
    byPath.set(op.path, op.routing);
  }
  return render(loadTemplate("classify.xml"), {
    gatewayTemplates: templates(operations, "gateway"),
    responseTemplates: templates(operations, "response"),
    responseCreateTemplates: templates(operations, "response-create"),
    bodyTemplates: templates(operations, "body"),
  });
}

/** The gateway's own answers (GET v1/models); empty when the API has no such operation. */
export function renderGatewayAnswers(
  operations: readonly RoutedOperation[],
  routes: readonly PolicyRoute[],
  teams: readonly PolicyTeam[] = [],
): string {
  return operations
    .filter((op) => op.routing === "gateway")
    .map((op) => {
      if (op.method !== "get" || !op.path.endsWith("/models")) {
        throw new Error(`API policy: the gateway has no answer for ${op.method.toUpperCase()} ${op.path}`);
      }
      return render(loadTemplate("models.xml"), { template: op.path }, { answer: modelsAnswer(routes, teams) });
    })
    .join("\n");
}

/** The choose that sets `pool` and `members` from the deployment, or answers 400/404. */
export function renderRouting(routes: readonly PolicyRoute[], accounts: readonly PolicyAccount[]): string {
  if (routes.length === 0) {
    throw new Error("API policy: no routes; the gateway needs at least one deployment");
  }
  const lines = routes.map((route) => {
    if (!SAFE_DEPLOYMENT.test(route.deployment)) {
      throw new Error(`API policy: deployment name ${JSON.stringify(route.deployment)} cannot be routed`);
    }
    const regions = route.regions ?? [];
    return render(
      loadTemplate("route.xml"),
      { deployment: route.deployment.toLowerCase() },
      {
        pool: attribute(
          "value",
          perRegion(
            checkBackendId(route.poolId),
            regions.map((r) => ({ region: r.region, value: checkBackendId(r.poolId) })),
          ),
        ),
        members: attribute(
          "value",
          perRegion(
            members(route.accounts),
            regions.map((r) => ({ region: r.region, value: members(r.accounts) })),
          ),
        ),
      },
    );
  });
  const regional = routes.some((r) => r.regions?.length);
  return render(
    loadTemplate("routing.xml"),
    {
      allAccounts: members(accounts),
      missingModelBody: MISSING_MODEL_BODY,
      notFoundBody: deploymentNotFoundBody(routes),
    },
    {
      routes: lines.join("\n"),
      gatewayRegion: regional
        ? [
            "        <!-- Each gateway region orders the accounts nearest first: its own pool for a deployment where the order differs. -->",
            `        <set-variable name="gatewayRegion" ${attribute("value", GATEWAY_REGION_EXPRESSION)} />`,
          ].join("\n")
        : "",
    },
  );
}

/** Looks up the account storing the response the request names, and picks the candidate accounts. */
export function renderResponsesLookup(accounts: readonly PolicyAccount[]): string {
  return render(loadTemplate("responses-lookup.xml"), {
    cachePrefix: RESPONSE_OWNER_KEY_PREFIX,
    accountIds: accounts.map((a) => checkBackendId(a.backendId)).join("|"),
  });
}

/** Remembers (or forgets) which account stores a response; rewrites the owner's failures. */
export function renderResponsesStore(retryAfterSeconds: number, ttlSeconds = RESPONSE_RETENTION_SECONDS): string {
  return render(loadTemplate("responses-store.xml"), {
    cachePrefix: RESPONSE_OWNER_KEY_PREFIX,
    ttlSeconds,
    retryAfterSeconds,
    ownerUnavailableBody: OWNER_UNAVAILABLE_BODY,
  });
}

/** The backend section's calls to the candidate accounts (`route` other than pool). */
export function renderAccountForward(options: {
  /** Retries beyond the first account: enough to try every account once. */
  count: number;
  /** Retries a new response may use on throttled or failing accounts (the pool retry's count). */
  retryCount: number;
  statusCodes: readonly number[];
  timeout: number;
}): string {
  if (options.count === 0) {
    return render(loadTemplate("forward-accounts.xml"), { timeout: options.timeout });
  }
  return render(loadTemplate("retry-accounts.xml"), {
    count: options.count,
    retryCount: options.retryCount,
    statusTest: options.statusCodes.map((code) => `status == ${code}`).join(" || "),
    timeout: options.timeout,
  });
}
