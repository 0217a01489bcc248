import { ALERT_RULE_IDS, ALERT_RULES, SEVERITY_NAMES, type AlertRuleId } from "../../queries/alertRules";
import { parseIsoDuration } from "../../common/duration";
import { alertActionGroups } from "../../policy-pack/policies";
import { ofType, type RecordedResource } from "../runtime/recorder";

/*
 * The operations side of a plan, read back from the recorded resources: which alert rules fire on
 * what, who they tell, and the workbook's panels, so a reviewer sees what operators will get.
 */

export interface PlannedAlert {
  /** Catalogue id (queries/alertRules.ts), from the rule's logical name. */
  id?: AlertRuleId;
  /** The rule's part of its logical name (`backend-failing` of `gateway-alert-backend-failing`). */
  key: string;
  title: string;
  kind: "log" | "metric";
  severity: number;
  /** What is compared: the query's measure column or the metric's name. */
  measure: string;
  operator: string;
  threshold: number;
  /** One alert per value of this column or metric dimension. */
  splitBy?: string;
  windowSize: string;
  evaluationFrequency: string;
  /** Windows in a row that must breach (log rules). */
  failingWindows: number;
  /** The query (log rules). */
  query?: string;
  /** Action groups told: this stack's and existing ones, by id. */
  actionGroups: string[];
}

export interface PlannedOperations {
  /** The stack's own action group, if any. */
  actionGroup?: { id: string; emails: string[]; webhook: boolean };
  alerts: PlannedAlert[];
  workbook?: { displayName: string; content: string; panels: { name: string; title: string; query: string }[] };
}

const ALERT_SUFFIX = /-alert-([a-z-]+)$/;
const keyOf = (logicalName: string) => ALERT_SUFFIX.exec(logicalName)?.[1] ?? logicalName;
const idOf = (logicalName: string): AlertRuleId | undefined => {
  const camel = keyOf(logicalName).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return ALERT_RULE_IDS.find((id) => id === camel);
};

type Inputs = Record<string, unknown>;
const criteriaOf = (r: RecordedResource) => ((r.inputs.criteria as Inputs | undefined)?.allOf as Inputs[] | undefined)?.[0] ?? {};
const splitOf = (criterion: Inputs) =>
  (criterion.dimensions as { name: string }[] | undefined)?.map((d) => d.name).join(", ") || undefined;

export function operationsOf(resources: readonly RecordedResource[]): PlannedOperations {
  const [group] = ofType(resources, "azure-native:monitor:ActionGroup");
  const logAlerts = ofType(resources, "azure-native:monitor:ScheduledQueryRule").map((r): PlannedAlert => {
    const c = criteriaOf(r);
    const failing = c.failingPeriods as { minFailingPeriodsToAlert?: number } | undefined;
    return {
      id: idOf(r.name),
      key: keyOf(r.name),
      title: String(r.inputs.displayName ?? r.name),
      kind: "log",
      severity: Number(r.inputs.severity),
      measure: String(c.metricMeasureColumn),
      operator: String(c.operator),
      threshold: Number(c.threshold),
      splitBy: splitOf(c),
      windowSize: String(r.inputs.windowSize),
      evaluationFrequency: String(r.inputs.evaluationFrequency),
      failingWindows: failing?.minFailingPeriodsToAlert ?? 1,
      query: String(c.query),
      actionGroups: alertActionGroups(r.type, r.inputs) ?? [],
    };
  });
  const metricAlerts = ofType(resources, "azure-native:monitor:MetricAlert").map((r): PlannedAlert => {
    const c = criteriaOf(r);
    const id = idOf(r.name);
    return {
      id,
      key: keyOf(r.name),
      title: id ? ALERT_RULES[id].title : r.name,
      kind: "metric",
      severity: Number(r.inputs.severity),
      measure: `${String(c.metricName)} (${String(c.timeAggregation).toLowerCase()})`,
      operator: String(c.operator),
      threshold: Number(c.threshold),
      splitBy: splitOf(c),
      windowSize: String(r.inputs.windowSize),
      evaluationFrequency: String(r.inputs.evaluationFrequency),
      failingWindows: 1,
      actionGroups: alertActionGroups(r.type, r.inputs) ?? [],
    };
  });
  const [workbook] = ofType(resources, "azure-native:applicationinsights:Workbook");
  const content = workbook && typeof workbook.inputs.serializedData === "string" ? workbook.inputs.serializedData : undefined;
  return {
    actionGroup: group && {
      id: group.id ?? group.name,
      emails: ((group.inputs.emailReceivers as { emailAddress: string }[] | undefined) ?? []).map((e) => e.emailAddress),
      webhook: ((group.inputs.webhookReceivers as unknown[] | undefined) ?? []).length > 0,
    },
    alerts: [...logAlerts, ...metricAlerts],
    workbook:
      content === undefined
        ? undefined
        : {
            displayName: String(workbook.inputs.displayName),
            content,
            panels: (JSON.parse(content) as { items: { type: number; name: string; content: Inputs }[] }).items
              .filter((i) => i.type === 3)
              .map((i) => ({ name: i.name, title: String(i.content.title), query: String(i.content.query) })),
          },
  };
}

/** `PT15M` -> `15 min`, `PT1H` -> `1 h`, `P1D` -> `1 day`. */
const minutes = (iso: string) => {
  const ms = parseIsoDuration(iso);
  if (ms === undefined) return iso;
  const m = ms / 60_000;
  return m % 1440 === 0 ? `${m / 1440} day` : m % 60 === 0 ? `${m / 60} h` : `${m} min`;
};

const OPERATORS: Record<string, string> = {
  GreaterThan: ">",
  GreaterThanOrEqual: "≥",
  LessThan: "<",
  LessThanOrEqual: "≤",
  Equals: "=",
};

/** Who an alert tells, in words. */
export function receivers(ops: PlannedOperations, alert: PlannedAlert): string {
  const own = ops.actionGroup && alert.actionGroups.includes(ops.actionGroup.id) ? ops.actionGroup : undefined;
  const parts = [
    ...(own?.emails.length ? [own.emails.join(", ")] : []),
    ...(own?.webhook ? ["the webhook"] : []),
    ...alert.actionGroups.filter((id) => id !== own?.id).map((id) => `action group ${id.split("/").pop()}`),
  ];
  return parts.length ? parts.join(", ") : "nobody (no receivers: the alert shows in the portal only)";
}

/** The plan summary's lines on alerts and the workbook. */
export function describeOperations(ops: PlannedOperations): string[] {
  if (ops.alerts.length === 0 && !ops.workbook) return [];
  const lines = ["", `Alerts (${ops.alerts.length}; npm run plan writes each log rule's query to alerts/):`];
  for (const a of ops.alerts) {
    const windows =
      a.failingWindows > 1
        ? `in ${a.failingWindows} windows of ${minutes(a.windowSize)} in a row`
        : `over ${minutes(a.windowSize)}`;
    lines.push(
      `  - ${a.title} [severity ${a.severity}, ${SEVERITY_NAMES[a.severity] ?? "?"}]: ${a.measure} ${OPERATORS[a.operator] ?? a.operator} ${a.threshold}` +
        `${a.splitBy ? ` per ${a.splitBy}` : ""} ${windows}, checked every ${minutes(a.evaluationFrequency)}; tells ${receivers(ops, a)}`,
    );
  }
  if (ops.workbook) {
    lines.push(
      `Workbook "${ops.workbook.displayName}": ${ops.workbook.panels.map((p) => p.title).join("; ")} (queries in workbook/)`,
    );
  }
  return lines;
}
