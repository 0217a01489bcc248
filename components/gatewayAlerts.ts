import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor";
import { CLASSIC_TIERS, type ApimSku } from "../common/apim";
import { uniqueName } from "../common/naming";
import {
  alertQuery,
  alertRulesFor,
  isoMinutes,
  type AlertQueryInputs,
  type AlertRule,
  type LogRule,
  type MetricRule,
} from "../queries/alertRules";
import type { ParsedAlerts } from "./gatewayAlertsArgs";
import type { OperationsContext } from "./gatewayWorkbook";

/*
 * The gateway's alerting: an action group with the configured receivers and one Azure Monitor rule
 * per entry of queries/alertRules.ts that applies. Created by ApimGateway as its children.
 */

/** Short name shown in SMS and e-mail subjects; Azure allows at most 12 characters. */
export const ACTION_GROUP_SHORT_NAME = "openai-apim";

/** APIM's platform metrics namespace (azure-monitor-docs supported-metrics/microsoft-apimanagement-service-metrics). */
const APIM_METRIC_NAMESPACE = "Microsoft.ApiManagement/service";

export interface AlertsContext extends OperationsContext {
  sku: ApimSku;
  /** Gateway regions beyond the primary: the capacity alert is then split by region. */
  multiRegion: boolean;
  openAiLogs: boolean;
  /** Tokens per minute per deployment, summed over the accounts that host it (where known). */
  capacity: { deployment: string; tokensPerMinute: number }[];
  quotas: { team: string; tokens: number; period: string }[];
}

export interface GatewayAlerts {
  /** The action group (undefined without e-mails or a webhook). */
  actionGroup?: monitor.ActionGroup;
  /** Log search alerts, in queries/alertRules.ts order. */
  logAlerts: monitor.ScheduledQueryRule[];
  /** Metric alerts. */
  metricAlerts: monitor.MetricAlert[];
}

const kebab = (id: string) => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The APIM metric that says how busy the gateway is: `Capacity` on classic tiers, gateway CPU on v2 tiers. */
export function capacityMetric(sku: ApimSku): { metricName: string; dimension?: string } {
  // Capacity reads 0 on v2 tiers and CpuPercent_Gateway reads 0 on classic ones (api-management-capacity.md).
  return CLASSIC_TIERS.includes(sku)
    ? { metricName: "Capacity", dimension: "Location" }
    : { metricName: "CpuPercent_Gateway" };
}

/** Creates the action group and the rules as children of the gateway. */
export function createGatewayAlerts(ctx: AlertsContext, alerts: ParsedAlerts): GatewayAlerts {
  const { name, parent } = ctx;
  const actionGroup =
    alerts.emails.length > 0 || alerts.webhookUrl
      ? new monitor.ActionGroup(
          `${name}-action-group`,
          {
            resourceGroupName: ctx.resourceGroupName,
            actionGroupName: ctx.suffix.apply((s) => uniqueName(name, "alerts", s, 260)),
            groupShortName: ACTION_GROUP_SHORT_NAME,
            // Action groups are global resources.
            location: "Global",
            enabled: true,
            emailReceivers: alerts.emails.map((emailAddress, i) => ({
              name: `email-${i + 1}`,
              emailAddress,
              useCommonAlertSchema: true,
            })),
            // A webhook URL often carries its own credential: kept secret in state.
            webhookReceivers: alerts.webhookUrl
              ? [{ name: "webhook", serviceUri: pulumi.secret(alerts.webhookUrl), useCommonAlertSchema: true }]
              : [],
            tags: ctx.tags,
          },
          { parent, additionalSecretOutputs: ["webhookReceivers"] },
        )
      : undefined;
  const actionGroupIds: pulumi.Input<string>[] = [...(actionGroup ? [actionGroup.id] : []), ...alerts.actionGroupIds];

  const { rules } = alertRulesFor({
    openAiLogs: ctx.openAiLogs,
    capacityKnown: ctx.capacity.length > 0,
    teamQuotas: ctx.quotas.length > 0,
  });
  const common = (rule: AlertRule) => ({
    resourceGroupName: ctx.resourceGroupName,
    ruleName: ctx.suffix.apply((s) => uniqueName(name, kebab(rule.id), s, 260)),
    description: rule.action,
    severity: alerts.severities[rule.id],
    enabled: true,
    evaluationFrequency: isoMinutes(rule.frequencyMinutes),
    windowSize: isoMinutes(rule.windowMinutes),
    // Resolved (and the receivers told) once the condition clears.
    autoMitigate: true,
    tags: ctx.tags,
  });

  const logAlerts = rules
    .filter((rule): rule is LogRule => rule.kind === "log")
    .map((rule) => {
      const query = pulumi
        .all([ctx.serviceId, ctx.appInsightsId, pulumi.all(ctx.accountIds)])
        .apply(([serviceId, appInsightsId, accountIds]) =>
          alertQuery(rule, {
            serviceId,
            appInsightsId,
            accountIds,
            capacity: ctx.capacity,
            quotas: ctx.quotas,
          } satisfies AlertQueryInputs),
        );
      const periods = rule.failingWindows ?? 1;
      return new monitor.ScheduledQueryRule(
        `${name}-alert-${kebab(rule.id)}`,
        {
          ...common(rule),
          displayName: rule.title,
          kind: "LogAlert",
          location: ctx.workspaceLocation,
          scopes: [ctx.workspaceId],
          criteria: {
            allOf: [
              {
                query,
                timeAggregation: "Maximum",
                metricMeasureColumn: rule.measure,
                dimensions: [{ name: rule.dimension, operator: "Include", values: ["*"] }],
                // Plain strings: azure-native's ConditionOperator enum holds another API's values ("gt").
                operator: "GreaterThanOrEqual",
                threshold: alerts.thresholds[rule.id],
                failingPeriods: { numberOfEvaluationPeriods: periods, minFailingPeriodsToAlert: periods },
              },
            ],
          },
          overrideQueryTimeRange: rule.queryMinutes ? isoMinutes(rule.queryMinutes) : undefined,
          // The tables appear in a new workspace with the first log row; Azure would refuse a query
          // over a table that does not exist yet (scheduledQueryRules skipQueryValidation).
          skipQueryValidation: true,
          actions: { actionGroups: actionGroupIds },
        },
        { parent },
      );
    });

  const metricAlerts = rules
    .filter((rule): rule is MetricRule => rule.kind === "metric")
    .map((rule) => {
      const metric = capacityMetric(ctx.sku);
      return new monitor.MetricAlert(
        `${name}-alert-${kebab(rule.id)}`,
        {
          ...common(rule),
          // Metric alert rules are global resources.
          location: "global",
          scopes: [ctx.serviceId],
          criteria: {
            odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            allOf: [
              {
                criterionType: "StaticThresholdCriterion",
                name: rule.id,
                metricNamespace: APIM_METRIC_NAMESPACE,
                metricName: metric.metricName,
                operator: "GreaterThanOrEqual",
                threshold: alerts.thresholds[rule.id],
                timeAggregation: "Average",
                // One alert per gateway region: a busy region is worth knowing about on its own.
                dimensions:
                  metric.dimension && ctx.multiRegion
                    ? [{ name: metric.dimension, operator: "Include", values: ["*"] }]
                    : undefined,
              },
            ],
          },
          actions: actionGroupIds.map((actionGroupId) => ({ actionGroupId })),
        },
        { parent },
      );
    });

  return { actionGroup, logAlerts, metricAlerts };
}
