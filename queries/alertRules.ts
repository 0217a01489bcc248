import { datatableRows, renderQuery, scopeValues, type QueryScope } from "./kql";

/*
 * The gateway's alert rules as data: what each watches, how, its default threshold and severity, and
 * what an operator should do when it fires. The component turns them into Azure Monitor rules, the
 * plan lists them, the README explains them; all three read this one table.
 *
 * Log search alerts (scheduled query rules) where the signal is a share, spans accounts in several
 * regions or exists only in logs: a metric alert compares one metric with a fixed number and a
 * multi-resource metric alert needs its resources in one region. A metric alert where a platform
 * metric says it all (the gateway's capacity).
 */

export const ALERT_RULE_IDS = [
  "backendFailing",
  "poolExhausted",
  "throttling",
  "tokenUsage",
  "gatewayCapacity",
  "teamQuota",
] as const;
export type AlertRuleId = (typeof ALERT_RULE_IDS)[number];

/** Azure Monitor severities: 0 critical, 1 error, 2 warning, 3 informational, 4 verbose. */
export const SEVERITY_NAMES = ["critical", "error", "warning", "informational", "verbose"] as const;

interface RuleBase {
  id: AlertRuleId;
  /** Display name of the rule (and the alert's title in every notification). */
  title: string;
  /** What the threshold counts, for errors and the plan: `percent` 1-100 or a number of `requests`. */
  unit: "percent" | "requests";
  defaultThreshold: number;
  defaultSeverity: number;
  /** How often the rule runs and how far back it looks, in minutes. */
  frequencyMinutes: number;
  windowMinutes: number;
  /** Why the default threshold is what it is. */
  why: string;
  /** What the alert means and what to do: the rule's description, so every notification carries it. */
  action: string;
}

/** A log search alert: a query over the workspace, one alert per value of `dimension`. */
export interface LogRule extends RuleBase {
  kind: "log";
  /** The query file, under queries/. */
  query: string;
  /** The column compared with the threshold. */
  measure: string;
  /** The column each alert is split by. */
  dimension: string;
  /** Consecutive windows that must all breach (a sustained condition); default 1. */
  failingWindows?: number;
  /** Rows with fewer requests are left out, so a handful of calls cannot make a share. */
  minRequests?: number;
  /** The query looks back further than the window (the team quota's period so far). */
  queryMinutes?: number;
}

/** A metric alert on a platform metric of the APIM instance. */
export interface MetricRule extends RuleBase {
  kind: "metric";
}

export type AlertRule = LogRule | MetricRule;

export const ALERT_RULES: Record<AlertRuleId, AlertRule> = {
  backendFailing: {
    id: "backendFailing",
    kind: "log",
    title: "Azure OpenAI account failing",
    query: "alerts/backend-failing.kql",
    measure: "FailedPercent",
    dimension: "Backend",
    unit: "percent",
    defaultThreshold: 25,
    defaultSeverity: 2,
    frequencyMinutes: 5,
    windowMinutes: 15,
    minRequests: 10,
    why: "a healthy account fails well under 1% of calls and breakers absorb single failures; a quarter of the calls ending on one account failing is an outage of that account or its region, not noise",
    action:
      "One account answers 5xx or not at all; its breaker keeps tripping and the pool serves from the others at reduced capacity. Check the account's region on Azure status and its resource health; if it stays down, lower its pool priority or remove it until it recovers.",
  },
  poolExhausted: {
    id: "poolExhausted",
    kind: "log",
    title: "Pool exhausted: clients refused",
    query: "alerts/pool-exhausted.kql",
    measure: "Requests",
    dimension: "Region",
    unit: "requests",
    defaultThreshold: 5,
    defaultSeverity: 1,
    frequencyMinutes: 5,
    windowMinutes: 5,
    why: "every such request is a client error right now; a few in five minutes means every account of a deployment was unavailable at once",
    action:
      "The gateway answered 503 or 429 itself because every account of a deployment had its breaker open: clients are failing. Look at the workbook's failovers panel for the deployment and accounts; usually every account is throttled (raise quota or add an instance) or a region is down with no other region hosting the model.",
  },
  throttling: {
    id: "throttling",
    kind: "log",
    title: "Sustained throttling of a deployment",
    query: "alerts/throttling.kql",
    measure: "ThrottledPercent",
    dimension: "Deployment",
    unit: "percent",
    defaultThreshold: 20,
    defaultSeverity: 3,
    frequencyMinutes: 5,
    windowMinutes: 5,
    failingWindows: 3,
    minRequests: 20,
    why: "some 429s are normal and retried on another account; a fifth of all calls throttled for 15 minutes in a row means the deployment's quota is too small for its traffic",
    action:
      "Azure OpenAI answers a large share of this deployment's calls with 429 for 15 minutes: the gateway retries them elsewhere, adding latency, until the pool runs out. Raise the deployment's capacity (tokens per minute) on its accounts, add an instance hosting it, or lower the teams' budgets.",
  },
  tokenUsage: {
    id: "tokenUsage",
    kind: "log",
    title: "Deployment near its token capacity",
    query: "alerts/token-usage.kql",
    measure: "UsedPercent",
    dimension: "Deployment",
    unit: "percent",
    defaultThreshold: 80,
    defaultSeverity: 3,
    frequencyMinutes: 5,
    windowMinutes: 15,
    why: "at 80% of the tokens per minute its accounts serve together there is still time to raise quota before calls are throttled",
    action:
      "The deployment used most of the tokens per minute its accounts serve together over 15 minutes; throttling follows. Raise capacity on its accounts (quota permitting) or add an instance hosting it before traffic grows further.",
  },
  gatewayCapacity: {
    id: "gatewayCapacity",
    kind: "metric",
    title: "Gateway capacity high",
    unit: "percent",
    defaultThreshold: 75,
    defaultSeverity: 2,
    frequencyMinutes: 5,
    windowMinutes: 15,
    why: "adding a gateway unit takes from minutes (v2 tiers) to most of an hour (classic tiers); 75% for 15 minutes leaves room for the scale-out to finish",
    action:
      "The gateway's units are busy (APIM capacity metric, per region) for 15 minutes; latency rises and requests start failing near 100%. Add units (apim.capacity, or the region's capacity in apim.additionalLocations) or move heavy callers to token limits.",
  },
  teamQuota: {
    id: "teamQuota",
    kind: "log",
    title: "Team near its token quota",
    query: "alerts/team-quota.kql",
    measure: "UsedPercent",
    dimension: "Team",
    unit: "percent",
    defaultThreshold: 80,
    defaultSeverity: 3,
    frequencyMinutes: 15,
    windowMinutes: 60,
    queryMinutes: 1440,
    why: "a team told at 80% can ask for more before the gateway refuses its calls with 403 for the rest of the period",
    action:
      "A team used most of its token quota for the current period (or, for weekly and longer quotas, is using it at a pace that will). Beyond the quota the gateway answers the team's calls with 403 until the period ends: tell the team, or raise teams[].tokenQuota.tokens.",
  },
};

/** The rules in display order. */
export const ALERT_RULE_LIST: readonly AlertRule[] = ALERT_RULE_IDS.map((id) => ALERT_RULES[id]);

/** `PT5M` from 5, `PT1H` from 60, `P1D` from 1440: the ISO-8601 durations Azure Monitor takes. */
export function isoMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `P${minutes / 1440}D`;
  if (minutes % 60 === 0) return `PT${minutes / 60}H`;
  return `PT${minutes}M`;
}

/** What the log alert queries need besides the gateway's resource ids. */
export interface AlertQueryInputs extends QueryScope {
  /** Tokens per minute each deployment's accounts serve together (token usage). */
  capacity: readonly { deployment: string; tokensPerMinute: number }[];
  /** Teams with a token quota (team quota). */
  quotas: readonly { team: string; tokens: number; period: string }[];
}

/** A log rule's query, ready for the rule. */
export function alertQuery(rule: LogRule, inputs: AlertQueryInputs): string {
  return renderQuery(rule.query, {
    ...scopeValues(inputs),
    minRequests: String(rule.minRequests ?? 1),
    windowMinutes: String(rule.windowMinutes),
    // The gateway's token metric names deployments in lower case (policies/classify.xml): the join
    // must too, or a deployment configured as "GPT-4o" would never match its tokens.
    capacityRows: datatableRows(inputs.capacity.map((c) => [c.deployment.toLowerCase(), c.tokensPerMinute])),
    quotaRows: datatableRows(inputs.quotas.map((q) => [q.team, q.tokens, q.period])),
  });
}

/** What a gateway has that decides which rules make sense. */
export interface AlertContext {
  /** The accounts send their request logs to the workspace (monitoring.openAiDiagnosticSettings). */
  openAiLogs: boolean;
  /** Deployments whose tokens per minute are known. */
  capacityKnown: boolean;
  /** Some team has a token quota. */
  teamQuotas: boolean;
}

/** The rules a gateway gets, and why any other is left out. */
export function alertRulesFor(context: AlertContext): {
  rules: AlertRule[];
  skipped: { id: AlertRuleId; why: string }[];
} {
  const skip: Partial<Record<AlertRuleId, string>> = {
    ...(context.openAiLogs
      ? {}
      : { throttling: "the accounts send no logs to the workspace (monitoring.openAiDiagnosticSettings: false)" }),
    ...(context.capacityKnown
      ? {}
      : { tokenUsage: "no deployment's tokens per minute is known (backends[].tokensPerMinute)" }),
    ...(context.teamQuotas ? {} : { teamQuota: "no team has a tokenQuota" }),
  };
  return {
    rules: ALERT_RULE_LIST.filter((rule) => !skip[rule.id]),
    skipped: ALERT_RULE_IDS.filter((id) => skip[id]).map((id) => ({ id, why: skip[id]! })),
  };
}
