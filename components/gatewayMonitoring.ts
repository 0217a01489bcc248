import * as pulumi from "@pulumi/pulumi";
import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as monitor from "@pulumi/azure-native/monitor";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { MONITORING_METRICS_PUBLISHER_ROLE_ID } from "../common/apim";
import { uniqueName } from "../common/naming";
import type { ParsedMonitoring } from "./gatewayMonitoringArgs";
import { grantRole } from "./roleAssignment";

/*
 * The gateway's telemetry: a Log Analytics workspace, a workspace-based Application Insights, the
 * APIM logger and diagnostic that feed it, and Azure Monitor diagnostic settings from APIM and every
 * OpenAI account to the workspace. Created by ApimGateway as its children.
 */

/** Custom metric namespace of the token metrics. */
export const TOKEN_METRIC_NAMESPACE = "openai-apim";

/** Headers worth having in the logs: which region answered and how much quota it had left. */
export const LOGGED_RESPONSE_HEADERS = [
  "x-ms-region",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-remaining-requests",
  "Retry-After",
  "retry-after-ms",
  "x-gateway-remaining-tokens",
  "apim-request-id",
];
export const LOGGED_REQUEST_HEADERS = ["Content-Type", "User-Agent", "x-ms-client-request-id"];

/** The APIM diagnostic's settings, from the monitoring args. */
export function diagnosticSettings(monitoring: ParsedMonitoring) {
  const body = { bytes: monitoring.logBodyBytes };
  return {
    alwaysLog: "allErrors",
    httpCorrelationProtocol: "W3C",
    logClientIp: true,
    // Without metrics: true, APIM drops the custom metrics the token policy emits.
    metrics: true,
    verbosity: "information",
    operationNameFormat: "Name",
    sampling: { samplingType: "fixed", percentage: monitoring.samplingPercentage },
    frontend: {
      // The subscription key may arrive as ?api-key=: never log it.
      request: {
        headers: LOGGED_REQUEST_HEADERS,
        body,
        dataMasking: { queryParams: [{ value: "api-key", mode: "Hide" }] },
      },
      response: { headers: LOGGED_RESPONSE_HEADERS, body },
    },
    backend: {
      request: { headers: ["Content-Type"], body },
      response: { headers: LOGGED_RESPONSE_HEADERS, body },
    },
  };
}

/** `/subscriptions/s/resourceGroups/rg/providers/P/type/name` -> { subscriptionId, resourceGroupName, name }. */
export function parseResourceId(id: string): { subscriptionId: string; resourceGroupName: string; name: string } {
  const match = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/.+\/([^/]+)$/i.exec(id);
  if (!match) {
    throw new Error(`not an ARM resource id: ${id}`);
  }
  return { subscriptionId: match[1], resourceGroupName: match[2], name: match[3] };
}

export interface MonitoringContext {
  /** Component name of the gateway (children are named from it). */
  name: string;
  parent: pulumi.Resource;
  resourceGroupName: pulumi.Input<string>;
  location?: pulumi.Input<string>;
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  suffix: pulumi.Output<string>;
  service: apimanagement.ApiManagementService;
  /** The gateway's managed identity, which authenticates the logger to Application Insights. */
  principalId: pulumi.Output<string>;
  subscriptionId: pulumi.Input<string>;
  /** Accounts whose platform logs and metrics go to the workspace, by backend name. */
  accounts: { name: string; resourceId: pulumi.Input<string> }[];
}

export interface GatewayMonitoring {
  workspaceId: pulumi.Output<string>;
  /** Region of the workspace (where log search alerts and the workbook live). */
  workspaceLocation: pulumi.Output<string | undefined>;
  appInsightsId: pulumi.Output<string>;
  appInsightsName: pulumi.Output<string>;
  appInsightsConnectionString: pulumi.Output<string>;
  logger: apimanagement.Logger;
  /** "Monitoring Metrics Publisher" for the gateway's identity on the Application Insights component. */
  publisher: pulumi.Resource;
  diagnostic: apimanagement.Diagnostic;
  diagnosticSettings: monitor.DiagnosticSetting[];
}

/** Creates the monitoring resources as children of the gateway. */
export function createGatewayMonitoring(ctx: MonitoringContext, monitoring: ParsedMonitoring): GatewayMonitoring {
  const { name, parent } = ctx;
  const service = { resourceGroupName: ctx.resourceGroupName, serviceName: ctx.service.name };

  let workspaceId: pulumi.Output<string>;
  let workspaceLocation: pulumi.Output<string | undefined>;
  if (monitoring.workspaceResourceId) {
    workspaceId = pulumi.output(monitoring.workspaceResourceId);
    const existing = parseResourceId(monitoring.workspaceResourceId);
    // The provider can only read a workspace in its own subscription; a central workspace elsewhere
    // (a common landing-zone setup) gets the log alerts and workbook in the gateway's region instead,
    // rather than a failed lookup stopping the deployment.
    workspaceLocation = pulumi
      .output(ctx.subscriptionId)
      .apply((subscriptionId) =>
        subscriptionId.toLowerCase() === existing.subscriptionId.toLowerCase()
          ? operationalinsights.getWorkspaceOutput(
              { resourceGroupName: existing.resourceGroupName, workspaceName: existing.name },
              { parent },
            ).location
          : pulumi.output(ctx.location ?? ctx.service.location),
      );
  } else {
    const workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        resourceGroupName: ctx.resourceGroupName,
        workspaceName: ctx.suffix.apply((s) => uniqueName(name, "logs", s, 63)),
        location: ctx.location,
        sku: { name: "PerGB2018" },
        retentionInDays: monitoring.retentionInDays,
        tags: ctx.tags,
      },
      { parent },
    );
    workspaceId = workspace.id;
    workspaceLocation = workspace.location;
  }

  let appInsightsId: pulumi.Output<string>;
  let appInsightsName: pulumi.Output<string>;
  let connectionString: pulumi.Output<string>;
  if (monitoring.appInsightsResourceId) {
    const existing = parseResourceId(monitoring.appInsightsResourceId);
    const component = applicationinsights.getComponentOutput(
      { resourceGroupName: existing.resourceGroupName, resourceName: existing.name },
      { parent },
    );
    appInsightsId = pulumi.output(monitoring.appInsightsResourceId);
    appInsightsName = component.name;
    connectionString = component.connectionString;
  } else {
    const component = new applicationinsights.Component(
      `${name}-insights`,
      {
        resourceGroupName: ctx.resourceGroupName,
        resourceName: ctx.suffix.apply((s) => uniqueName(name, "insights", s, 255)),
        location: ctx.location,
        kind: "web",
        applicationType: "web",
        workspaceResourceId: workspaceId,
        ingestionMode: "LogAnalytics",
        // Only Entra ID-authenticated telemetry: the logger below sends with the gateway's identity.
        disableLocalAuth: true,
        tags: ctx.tags,
      },
      { parent, additionalSecretOutputs: ["connectionString", "instrumentationKey"] },
    );
    appInsightsId = component.id;
    appInsightsName = component.name;
    connectionString = component.connectionString;
  }
  connectionString = pulumi.secret(connectionString);

  // Application Insights recommends the logger authenticate with APIM's managed identity (role
  // "Monitoring Metrics Publisher" on the component, `identityClientId: SystemAssigned`), which lets
  // the component turn local (instrumentation-key) authentication off: api-management-howto-app-insights.md.
  const publisher = grantRole(
    `${name}-metrics-publisher`,
    {
      scope: appInsightsId,
      principalId: ctx.principalId,
      roleId: MONITORING_METRICS_PUBLISHER_ROLE_ID,
      subscriptionId: ctx.subscriptionId,
      description: `Lets the API Management gateway "${name}" send telemetry to Application Insights with its managed identity.`,
    },
    { parent },
  );
  const logger = new apimanagement.Logger(
    `${name}-logger`,
    {
      ...service,
      loggerId: "appinsights",
      loggerType: "applicationInsights",
      description: "Application Insights for the OpenAI gateway, authenticated with the gateway's managed identity",
      resourceId: appInsightsId,
      isBuffered: true,
      credentials: { connectionString, identityClientId: "SystemAssigned" },
    },
    // Telemetry sent before the identity holds its role would be refused.
    { parent, additionalSecretOutputs: ["credentials"], dependsOn: [publisher] },
  );

  const diagnostic = new apimanagement.Diagnostic(
    `${name}-diagnostic`,
    { ...service, diagnosticId: "applicationinsights", loggerId: logger.id, ...diagnosticSettings(monitoring) },
    { parent },
  );

  const allLogsAndMetrics = {
    workspaceId,
    logs: [{ categoryGroup: "allLogs", enabled: true }],
    metrics: [{ category: "AllMetrics", enabled: true }],
  };
  const settings = [
    new monitor.DiagnosticSetting(
      `${name}-diag-apim`,
      {
        name: "to-log-analytics",
        resourceUri: ctx.service.id,
        // Resource-specific tables (ApiManagementGatewayLogs) instead of the shared AzureDiagnostics.
        logAnalyticsDestinationType: "Dedicated",
        ...allLogsAndMetrics,
      },
      { parent },
    ),
    ...(monitoring.openAiDiagnosticSettings ? ctx.accounts : []).map(
      (account) =>
        new monitor.DiagnosticSetting(
          `${name}-diag-${account.name}`,
          { name: "to-log-analytics", resourceUri: account.resourceId, ...allLogsAndMetrics },
          { parent },
        ),
    ),
  ];

  return {
    workspaceId,
    workspaceLocation,
    appInsightsId,
    appInsightsName,
    appInsightsConnectionString: connectionString,
    logger,
    publisher,
    diagnostic,
    diagnosticSettings: settings,
  };
}
