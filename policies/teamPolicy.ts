import { GUID } from "../common/entra";
import type { TokenQuotaPeriod } from "../common/apim";
import { assertWellFormed, attribute, escapeXml, indent } from "./template";

/*
 * A team's rules: the deployments it may call (403 for any other, before a backend is called) and its
 * token budget (azure-openai-token-limit: a rate, 429 with Retry-After beyond it; a quota per period,
 * 403 beyond it). Written once and used in two places: the team's product policy, for callers with the
 * team's subscription key, and the API policy, for the team's Entra ID applications, which carry no
 * subscription and so get no product policy.
 */

export interface PolicyTeam {
  name: string;
  /** Deployments the team may call, as clients name them; undefined: every deployment. */
  deployments?: readonly string[];
  tokensPerMinute?: number;
  tokenQuota?: { tokens: number; period: TokenQuotaPeriod };
  /** Application (client) ids of the team's Entra ID callers. */
  entraClientIds?: readonly string[];
}

const SAFE_NAME = /^[a-z0-9-]+$/;
const SAFE_DEPLOYMENT = /^[A-Za-z0-9._-]+$/;

/** The APIM product of a team (the product id the `team` variable is read from). */
export const teamProductId = (team: string) => `team-${team}`;

/** Azure OpenAI's answer to a caller without permission (its error format), naming what the team may call. */
export function teamForbiddenBody(team: PolicyTeam): string {
  return JSON.stringify({
    error: {
      code: "PermissionDenied",
      message: `Team ${team.name} may not call this deployment. It may call: ${(team.deployments ?? []).join(", ")}.`,
    },
  });
}

function check(team: PolicyTeam): void {
  if (!SAFE_NAME.test(team.name)) throw new Error(`team policy: team name ${JSON.stringify(team.name)} cannot be used`);
  for (const d of team.deployments ?? []) {
    if (!SAFE_DEPLOYMENT.test(d)) throw new Error(`team policy: deployment ${JSON.stringify(d)} cannot be routed`);
  }
  for (const id of team.entraClientIds ?? []) {
    if (!GUID.test(id)) throw new Error(`team policy: ${JSON.stringify(id)} is not an application (client) id`);
  }
}

/** The token-limit element of a team, or "" without a rate or quota. */
function tokenLimit(team: PolicyTeam, counterKey: string): string {
  if (!team.tokensPerMinute && !team.tokenQuota) return "";
  const attrs = [
    attribute("counter-key", counterKey),
    team.tokensPerMinute ? `tokens-per-minute="${team.tokensPerMinute}"` : "",
    team.tokenQuota ? `token-quota="${team.tokenQuota.tokens}" token-quota-period="${team.tokenQuota.period}"` : "",
    // Prompt tokens are counted before the call, so a team over its budget is stopped at the gateway.
    'estimate-prompt-tokens="true"',
    team.tokensPerMinute ? 'remaining-tokens-header-name="x-team-remaining-tokens"' : "",
    team.tokenQuota ? 'remaining-quota-tokens-header-name="x-team-remaining-quota-tokens"' : "",
  ].filter(Boolean);
  return [
    "<choose>",
    "    <!-- Reading or deleting a stored response uses no tokens. -->",
    `    <when ${attribute("condition", '@(context.Variables.GetValueOrDefault<string>("routing", "") != "response")')}>`,
    `        <azure-openai-token-limit ${attrs.join(" ")} />`,
    "    </when>",
    "</choose>",
  ].join("\n");
}

/**
 * A team's rules as inbound policy lines (unindented): the deployment check, then the token limit,
 * counted under `counterKey` (a policy expression). They read the `deployment` and `routing` variables
 * the API policy sets before its `<base />`, where product policies run.
 */
export function renderTeamRules(team: PolicyTeam, counterKey: string): string {
  check(team);
  const lines: string[] = [];
  if (team.deployments) {
    const allowed = `|${team.deployments.map((d) => d.toLowerCase()).join("|")}|`;
    lines.push(
      "<choose>",
      `    <!-- Team ${team.name} may call ${team.deployments.join(", ")}; any other deployment is refused before a backend is called. -->`,
      `    <when ${attribute("condition", `@{ var deployment = context.Variables.GetValueOrDefault<string>("deployment", ""); return deployment != "" && !"${allowed}".Contains("|" + deployment + "|"); }`)}>`,
      "        <return-response>",
      '            <set-status code="403" reason="Forbidden" />',
      '            <set-header name="Content-Type" exists-action="override">',
      "                <value>application/json</value>",
      "            </set-header>",
      `            <set-body>${escapeXml(teamForbiddenBody(team))}</set-body>`,
      "        </return-response>",
      "    </when>",
      "</choose>",
    );
  }
  const limit = tokenLimit(team, counterKey);
  if (limit) lines.push(limit);
  return lines.join("\n");
}

/** The product policy of a team, for callers with its subscription key: counted per subscription. */
export function renderTeamProductPolicy(team: PolicyTeam): string {
  const rules = renderTeamRules(team, '@("team:" + context.Subscription.Id)');
  const xml = [
    "<policies>",
    "    <inbound>",
    "        <base />",
    ...(rules ? [indent(rules, 8)] : []),
    "    </inbound>",
    "    <backend>",
    "        <base />",
    "    </backend>",
    "    <outbound>",
    "        <base />",
    "    </outbound>",
    "    <on-error>",
    "        <base />",
    "    </on-error>",
    "</policies>",
  ].join("\n");
  assertWellFormed(xml, `the product policy of team ${team.name}`);
  return xml;
}

/**
 * The `team` variable's expression (C#, not yet escaped for XML): the team whose product the caller's key belongs to, or the team of the Entra
 * ID application that called (`appid` in v1 tokens, `azp` in v2 ones); "" for neither.
 */
export function teamExpression(teams: readonly PolicyTeam[]): string {
  const byApp = teams
    .filter((t) => t.entraClientIds?.length)
    .map((t) => {
      check(t);
      const ids = `|${t.entraClientIds!.map((id) => id.toLowerCase()).join("|")}|`;
      return `if ("${ids}".Contains("|" + app + "|")) { return "${t.name}"; }`;
    });
  return [
    "@{",
    '    if (context.Product != null && context.Product.Id.StartsWith("team-")) { return context.Product.Id.Substring(5); }',
    ...(byApp.length
      ? [
          '    var token = context.Variables.GetValueOrDefault<Jwt>("callerToken", null);',
          "    if (context.Subscription == null && token != null) {",
          '        var app = token.Claims.GetValueOrDefault("appid", token.Claims.GetValueOrDefault("azp", "")).ToLowerInvariant();',
          ...byApp.map((line) => `        ${line}`),
          "    }",
        ]
      : []),
    '    return "";',
    "}",
  ].join("\n");
}
