import { GUID } from "../common/entra";
import { attribute, escapeXml } from "./template";

/*
 * Who may call the gateway. The subscription key is checked by APIM itself before any policy runs
 * (the API's subscriptionRequired); Entra ID callers are checked here, by validate-azure-ad-token.
 */

/** Entra ID callers the gateway accepts. */
export interface EntraIdCallers {
  /** Tenant (directory) id or domain that issues the callers' tokens. */
  tenantId: string;
  /** Accepted `aud` values; at least one. */
  audiences: readonly string[];
  /** Accepted application (client) ids; absent: any application of the tenant. */
  allowedClientIds?: readonly string[];
}

export interface CallerAuthOptions {
  /** Accept the subscription key (api-key). */
  subscriptionKey: boolean;
  entraId?: EntraIdCallers;
}

/** Variable holding the validated token (a `Jwt`), when the caller brought one. */
export const CALLER_TOKEN_VARIABLE = "callerToken";

/**
 * Who is calling, for per-caller token limits: the subscription, or for an Entra ID caller its
 * application id (`appid` in v1 tokens, `azp` in v2 ones).
 */
export function callerExpression(auth: CallerAuthOptions): string {
  if (!auth.entraId) {
    return "@(context.Subscription.Id)";
  }
  const app = `((Jwt)context.Variables["${CALLER_TOKEN_VARIABLE}"]).Claims`;
  const fromToken = `"app:" + ${app}.GetValueOrDefault("appid", ${app}.GetValueOrDefault("azp", ""))`;
  return auth.subscriptionKey
    ? `@(context.Subscription != null ? context.Subscription.Id : ${fromToken})`
    : `@(${fromToken})`;
}

const UNAUTHORIZED =
  "Send a Microsoft Entra ID access token for https://cognitiveservices.azure.com/.default as Authorization: Bearer, or the subscription key as api-key.";
const UNAUTHORIZED_TOKEN_ONLY =
  "Send a Microsoft Entra ID access token for https://cognitiveservices.azure.com/.default as Authorization: Bearer.";

function validateToken(entraId: EntraIdCallers, subscriptionKey: boolean): string[] {
  if (entraId.audiences.length === 0) {
    throw new Error("caller auth: entraId needs at least one audience");
  }
  for (const id of entraId.allowedClientIds ?? []) {
    if (!GUID.test(id)) throw new Error(`caller auth: ${JSON.stringify(id)} is not an application (client) id`);
  }
  const clientIds = entraId.allowedClientIds
    ? [
        "<client-application-ids>",
        ...entraId.allowedClientIds.map((id) => `    <application-id>${escapeXml(id)}</application-id>`),
        "</client-application-ids>",
      ]
    : [];
  // Child order as documented (validate-azure-ad-token-policy.md): client ids, then audiences.
  return [
    `<validate-azure-ad-token ${attribute("tenant-id", entraId.tenantId)} header-name="Authorization" failed-validation-httpcode="401" ${attribute("failed-validation-error-message", subscriptionKey ? UNAUTHORIZED : UNAUTHORIZED_TOKEN_ONLY)} output-token-variable-name="${CALLER_TOKEN_VARIABLE}">`,
    ...clientIds.map((line) => `    ${line}`),
    "    <audiences>",
    ...entraId.audiences.map((aud) => `        <audience>${escapeXml(aud)}</audience>`),
    "    </audiences>",
    "</validate-azure-ad-token>",
  ];
}

/**
 * The inbound fragment that checks Entra ID callers and names the caller, indented for `<inbound>`.
 * With keys and tokens both accepted, the API requires no subscription (APIM would refuse a token-only
 * caller before any policy), and a request without a valid key must carry a valid token. A key that
 * is sent is still checked by APIM: an invalid one gets 401 (api-management-subscriptions.md, "How API
 * Management handles requests with or without subscription keys").
 */
export function renderCallerAuth(auth: CallerAuthOptions): string {
  if (!auth.subscriptionKey && !auth.entraId) {
    throw new Error("caller auth: neither subscription keys nor Entra ID tokens are accepted; nobody could call");
  }
  const lines: string[] = [];
  if (auth.entraId && auth.subscriptionKey) {
    lines.push(
      "<!-- Callers bring the subscription key (checked by APIM before this policy) or an Entra ID token, checked here. -->",
      "<choose>",
      '    <when condition="@(context.Subscription == null)">',
      ...validateToken(auth.entraId, true).map((l) => `        ${l}`),
      "    </when>",
      "</choose>",
    );
  } else if (auth.entraId) {
    lines.push("<!-- Entra ID tokens are the only way in: the API requires no subscription key. -->");
    lines.push(...validateToken(auth.entraId, false));
  }
  lines.push(`<set-variable name="caller" ${attribute("value", callerExpression(auth))} />`);
  return lines.map((l) => `        ${l}`).join("\n");
}
