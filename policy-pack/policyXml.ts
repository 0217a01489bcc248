/*
 * Reading the rendered APIM policies back, for the rules (policies.ts) and the offline plan: plain
 * string scanning, because the pack is its own package without an XML parser. The policies are this
 * project's own output, so their shapes are known; a test renders them and reads them back.
 */

/** The text of the element that starts at `start` (`<tag ...`), up to its matching close tag. */
function elementAt(xml: string, start: number, tag: string): string {
  const pattern = new RegExp(`<${tag}\\b|</${tag}>`, "g");
  pattern.lastIndex = start;
  let depth = 0;
  for (let m = pattern.exec(xml); m; m = pattern.exec(xml)) {
    depth += m[0].startsWith("</") ? -1 : 1;
    if (depth === 0) return xml.slice(start, m.index + m[0].length);
  }
  return xml.slice(start);
}

/** How an API's policy checks Entra ID tokens, read from the rendered XML. */
export interface TokenValidation {
  /** `always`: every request; `without-key`: requests without a subscription key; `other`: some other condition. */
  applies: "always" | "without-key" | "other";
  tenantId?: string;
  audiences: string[];
  /** Accepted application (client) ids; empty: any application of the tenant. */
  clientIds: string[];
}

const inner = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1].trim());

/** The policy's validate-azure-ad-token, if any (the first one), and when it applies. */
export function tokenValidation(policyXml: string): TokenValidation | undefined {
  const start = policyXml.indexOf("<validate-azure-ad-token");
  if (start < 0) {
    return undefined;
  }
  const element = policyXml.slice(start, policyXml.indexOf("</validate-azure-ad-token>", start));
  const before = policyXml.slice(policyXml.indexOf("<inbound>"), start);
  const openWhens = [...before.matchAll(/<when\b[^>]*?condition=(["'])(.*?)\1[^>]*>|<\/when>/g)].reduce<string[]>(
    (stack, m) => (m[0].startsWith("</") ? stack.slice(0, -1) : [...stack, m[2]]),
    [],
  );
  const inOtherwise = (before.match(/<otherwise>/g)?.length ?? 0) > (before.match(/<\/otherwise>/g)?.length ?? 0);
  const applies =
    openWhens.length === 0 && !inOtherwise
      ? "always"
      : openWhens.length === 1 && !inOtherwise && /^@\(context\.Subscription == null\)$/.test(openWhens[0])
        ? "without-key"
        : "other";
  const clientIds = element.includes("<client-application-ids>")
    ? inner(element.slice(element.indexOf("<client-application-ids>")), "application-id")
    : [];
  return {
    applies,
    tenantId: /tenant-id=(["'])(.*?)\1/.exec(element)?.[2],
    audiences: inner(element, "audience"),
    clientIds,
  };
}

/**
 * `count` of the API policy's pool `<retry>` (the one that sends to the deployment's pool, not the one
 * that calls single accounts for stored responses); 0 when there is none.
 */
export function retryCount(policyXml: string): number {
  for (const chunk of policyXml.split("<retry").slice(1)) {
    const retry = chunk.slice(0, chunk.indexOf("</retry>"));
    if (retry.includes('context.Variables["pool"]')) {
      return Number(/\bcount="(\d+)"/.exec(retry)?.[1] ?? 0);
    }
  }
  return 0;
}

/** A team's rules as its policy states them. */
export interface TeamRules {
  /** Deployments it may call (lower case); undefined: every deployment. */
  deployments?: string[];
  tokensPerMinute?: number;
  tokenQuota?: { tokens: number; period: string };
}

/** The rules in a team's product policy, or in its block of the API policy. */
export function teamRules(xml: string): TeamRules {
  const allowed = /"\|([^"]*)\|"\.Contains\("\|" \+ deployment \+ "\|"\)/.exec(xml)?.[1];
  const limit = /<azure-openai-token-limit\b[^>]*\/>/.exec(xml)?.[0] ?? "";
  const attr = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(limit)?.[1];
  const quota = attr("token-quota");
  return {
    deployments: allowed?.split("|"),
    tokensPerMinute: attr("tokens-per-minute") ? Number(attr("tokens-per-minute")) : undefined,
    tokenQuota: quota ? { tokens: Number(quota), period: attr("token-quota-period") ?? "" } : undefined,
  };
}

/** The API policy's rules for teams of Entra ID applications, by team name. */
export function entraTeamBlocks(apiPolicyXml: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const start =
    /<when condition='@\(context\.Subscription == null &amp;&amp; \(string\)context\.Variables\["team"\] == "([a-z0-9-]+)"\)'>/g;
  for (let m = start.exec(apiPolicyXml); m; m = start.exec(apiPolicyXml)) {
    blocks.set(m[1], elementAt(apiPolicyXml, m.index, "when"));
  }
  return blocks;
}

/** Which Entra ID applications count as which team (the API policy's `team` variable). */
export function teamApplications(apiPolicyXml: string): Map<string, string[]> {
  const teams = new Map<string, string[]>();
  for (const m of apiPolicyXml.matchAll(
    /if \("\|([^"]*)\|"\.Contains\("\|" \+ app \+ "\|"\)\) \{ return "([a-z0-9-]+)"; \}/g,
  )) {
    teams.set(m[2], m[1].split("|"));
  }
  return teams;
}
