import { z } from "zod";
import { ALERT_RULE_IDS, ALERT_RULES, type AlertRuleId } from "../queries/alertRules";
import { distinctNames, sameName } from "../common/azureOpenAi";
import { bool, emailAddress, int, strictObject } from "../common/validation";

/*
 * Who is told when the gateway needs an operator, and when. The rules themselves (what each watches,
 * its defaults and why) are in queries/alertRules.ts; these args choose receivers and adjust
 * thresholds and severities, for the component and the stack config (`openai-apim:alerts`) alike.
 */

/** When each rule fires; percentages 1-100 except `poolExhausted` (requests in 5 minutes). */
export interface AlertThresholdsArgs {
  /** Share of requests ending on one account that failed (5xx or no answer) over 15 minutes, percent; default 25. */
  backendFailing?: number;
  /** Requests the gateway refused in 5 minutes because every breaker of a pool was open; default 5. */
  poolExhausted?: number;
  /** Share of a deployment's calls answered 429 by Azure OpenAI, three 5-minute windows in a row, percent; default 20. */
  throttling?: number;
  /** A deployment's tokens per minute over 15 minutes as a share of what its accounts serve, percent; default 80. */
  tokenUsage?: number;
  /** APIM capacity (CPU on v2 tiers) averaged over 15 minutes, percent; default 75. */
  gatewayCapacity?: number;
  /** A team's tokens as a share of its token quota for the period, percent; default 80. */
  teamQuota?: number;
}

/** Severity of each rule: 0 critical, 1 error, 2 warning, 3 informational, 4 verbose. */
export interface AlertSeveritiesArgs {
  /** Default 2. */
  backendFailing?: number;
  /** Default 1: clients are failing. */
  poolExhausted?: number;
  /** Default 3. */
  throttling?: number;
  /** Default 3. */
  tokenUsage?: number;
  /** Default 2. */
  gatewayCapacity?: number;
  /** Default 3. */
  teamQuota?: number;
}

/** Alert rules on the gateway's telemetry, and who they notify (needs monitoring). */
export interface GatewayAlertsArgs {
  /**
   * false creates no alert rules and no action group (the workbook stays). Unset: on with monitoring,
   * off without it; true with monitoring off is refused.
   */
  enabled?: boolean;
  /** E-mail addresses notified when an alert fires or resolves. */
  emails?: string[];
  /** An https URL that receives every alert as JSON in the common alert schema (a chat or paging tool). */
  webhookUrl?: string;
  /** Existing action groups (ARM ids) notified as well, e.g. an on-call rotation. */
  actionGroupIds?: string[];
  /** When each rule fires. */
  thresholds?: AlertThresholdsArgs;
  /** Severity of each rule. */
  severities?: AlertSeveritiesArgs;
}

const ACTION_GROUP_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Insights\/actionGroups\/[^/]+$/i;
const MAX_REQUESTS = 1_000_000;

const thresholdSchema = (id: AlertRuleId) => {
  const rule = ALERT_RULES[id];
  return (
    rule.unit === "percent"
      ? int(1, 100, "a whole percentage from 1 to 100")
      : int(1, MAX_REQUESTS, `a whole number of requests from 1 to ${MAX_REQUESTS}`)
  ).default(rule.defaultThreshold);
};
const severitySchema = (id: AlertRuleId) =>
  int(0, 4, "a severity from 0 (critical) to 4 (verbose)").default(ALERT_RULES[id].defaultSeverity);

const perRule = <T extends z.ZodType>(field: (id: AlertRuleId) => T) =>
  Object.fromEntries(ALERT_RULE_IDS.map((id) => [id, field(id)])) as Record<AlertRuleId, T>;

const thresholdsSchema = strictObject(perRule(thresholdSchema), `an object { ${ALERT_RULE_IDS.join("?, ")}? }`);
const severitiesSchema = strictObject(perRule(severitySchema), `an object { ${ALERT_RULE_IDS.join("?, ")}? }`);

export const alertsSchema = strictObject(
  {
    // No default: unset means "with monitoring", so turning monitoring off turns alerts off too.
    enabled: bool().optional(),
    emails: z
      .array(emailAddress(), { error: "a list of e-mail addresses" })
      .max(100, { error: "at most 100 e-mail addresses (use an existing action group for more)" })
      .superRefine((emails, ctx) => {
        emails.forEach((email, i) => {
          const first = emails.findIndex((other) => other.toLowerCase() === email.toLowerCase());
          if (first !== i) {
            ctx.addIssue({
              code: "custom",
              path: [i],
              input: email,
              message: `an address not already listed as emails[${first}]`,
            });
          }
        });
      })
      .default([]),
    webhookUrl: z.url({ protocol: /^https$/, error: "an https:// URL that accepts the alert as JSON" }).optional(),
    actionGroupIds: z
      .array(
        z.string({ error: "the resource id of an action group" }).regex(ACTION_GROUP_ID, {
          error:
            "the resource id of an action group (/subscriptions/…/providers/Microsoft.Insights/actionGroups/<name>)",
        }),
        { error: "a list of action group resource ids" },
      )
      .default([]),
    thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
    severities: severitiesSchema.default(severitiesSchema.parse({})),
  },
  "an object { enabled?, emails?, webhookUrl?, actionGroupIds?, thresholds?, severities? }",
);

export type ParsedAlerts = z.output<typeof alertsSchema>;

/**
 * Alerts need the workspace and Application Insights that monitoring creates. Left unset, `enabled`
 * follows monitoring, so switching monitoring off needs no second edit; an explicit `enabled: true`
 * with monitoring off is a contradiction, reported at the alerts key instead of silently ignored.
 */
export function checkAlerts(
  alerts: ParsedAlerts | undefined,
  monitoringEnabled: boolean,
  ctx: z.RefinementCtx,
  path: PropertyKey[],
  monitoringKey: string,
): void {
  if (!alerts || monitoringEnabled || alerts.enabled !== true) return;
  ctx.addIssue({
    code: "custom",
    path: [...path, "enabled"],
    input: alerts.enabled,
    message: `true while ${monitoringKey} is false (alerts query the monitoring workspace; turn monitoring on or alerts off)`,
  });
}

/** Alerts take effect with monitoring on and `enabled` not false. */
export function alertsOn(alerts: ParsedAlerts | undefined, monitoringEnabled: boolean): boolean {
  return monitoringEnabled && (alerts?.enabled ?? true);
}

/**
 * Tokens per minute per deployment over the backends hosting it, for deployments whose every backend
 * states its figure: a sum missing one account would make usage look higher than it is.
 */
export function deploymentCapacity(
  backends: readonly { deployments: readonly string[]; tokensPerMinute?: Record<string, number> }[],
): { deployment: string; tokensPerMinute: number }[] {
  // "Chat" on one account and "chat" on another are one deployment.
  return distinctNames(backends.flatMap((b) => b.deployments)).flatMap((deployment) => {
    const figures = backends
      .filter((b) => b.deployments.some((d) => sameName(d, deployment)))
      .map((b) => Object.entries(b.tokensPerMinute ?? {}).find(([key]) => sameName(key, deployment))?.[1]);
    return figures.every((f) => f !== undefined)
      ? [{ deployment, tokensPerMinute: figures.reduce((sum: number, f) => sum + f!, 0) }]
      : [];
  });
}
