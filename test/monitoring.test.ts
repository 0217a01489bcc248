import { expect } from "chai";
import { ApimGateway } from "../components/apimGateway";
import type { ApimBackendArgs, ApimGatewayArgs } from "../components/apimGatewayArgs";
import { parseResourceId, TOKEN_METRIC_NAMESPACE } from "../components/gatewayMonitoring";
import { PLACEHOLDER_SUBSCRIPTION_ID } from "../offline/runtime/placeholders";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";
import { existingBackend, gatewayArgs, input, named, ofType, TYPES } from "./helpers";
import { child, findAll, parseXml } from "../offline/plan/xml";

const BACKENDS: ApimBackendArgs[] = [
  existingBackend("sweden", "swedencentral"),
  existingBackend("france", "francecentral"),
];

async function gateway(args: Partial<ApimGatewayArgs> = {}): Promise<ProgramRun> {
  return runMocked({ config: {} }, () => {
    const gw = new ApimGateway("gateway", { ...gatewayArgs(BACKENDS), ...args });
    return {
      workspaceId: gw.workspaceId,
      appInsightsName: gw.appInsightsName,
      appInsightsConnectionString: gw.appInsightsConnectionString,
    };
  });
}

const policyOf = (run: ProgramRun) => parseXml(input(ofType(run.resources, TYPES.apiPolicy)[0], "value") as string);

describe("gateway monitoring (default: on)", () => {
  let run: ProgramRun;
  let workspace: RecordedResource;
  let insights: RecordedResource;
  before(async () => {
    run = await gateway({ monitoring: { samplingPercentage: 25, logBodyBytes: 1024, retentionInDays: 90 } });
    [workspace] = ofType(run.resources, TYPES.workspace);
    [insights] = ofType(run.resources, TYPES.appInsights);
  });

  it("creates a PerGB2018 Log Analytics workspace with the configured retention in the primary region", () => {
    expect(workspace.inputs).to.deep.include({
      sku: { name: "PerGB2018" },
      retentionInDays: 90,
      location: "swedencentral",
    });
    expect(input(workspace, "workspaceName")).to.match(/^gateway-logs-[a-z0-9]{6}$/);
  });

  it("creates a workspace-based Application Insights of kind web", () => {
    expect(insights.inputs).to.include({
      kind: "web",
      applicationType: "web",
      ingestionMode: "LogAnalytics",
      workspaceResourceId: workspace.id,
      location: "swedencentral",
    });
    expect(insights.additionalSecretOutputs).to.include("connectionString");
  });

  it("connects APIM with a logger that authenticates with the gateway's managed identity", () => {
    const [logger] = ofType(run.resources, TYPES.logger);
    expect(logger.inputs).to.include({ loggerType: "applicationInsights", resourceId: insights.id, isBuffered: true });
    expect(input(logger, "credentials")).to.deep.equal({
      connectionString: insights.state.connectionString,
      identityClientId: "SystemAssigned",
    });
    expect(logger.secretInputs).to.include("credentials.connectionString");
    expect(logger.additionalSecretOutputs).to.include("credentials");
  });

  it("grants the gateway Monitoring Metrics Publisher on Application Insights before the logger, which turns local auth off", () => {
    const [service] = ofType(run.resources, TYPES.service);
    const publisher = ofType(run.resources, TYPES.roleAssignment).find((r) =>
      String(input(r, "roleDefinitionId")).endsWith("/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb"),
    )!;
    expect(publisher.inputs).to.include({
      scope: insights.id,
      principalId: (service.state.identity as { principalId: string }).principalId,
      principalType: "ServicePrincipal",
    });
    expect(ofType(run.resources, TYPES.logger)[0].dependencies).to.include(publisher.urn);
    expect(input(insights, "disableLocalAuth")).to.equal(true);
  });

  it("logs every request through a diagnostic with sampling, W3C correlation, client IP, metrics and headers", () => {
    const [diagnostic] = ofType(run.resources, TYPES.diagnostic);
    const [logger] = ofType(run.resources, TYPES.logger);
    expect(diagnostic.inputs).to.include({
      diagnosticId: "applicationinsights",
      loggerId: logger.id,
      alwaysLog: "allErrors",
      httpCorrelationProtocol: "W3C",
      logClientIp: true,
      metrics: true,
    });
    expect(input(diagnostic, "sampling")).to.deep.equal({ samplingType: "fixed", percentage: 25 });
    for (const side of ["frontend", "backend"]) {
      for (const direction of ["request", "response"]) {
        expect(input(diagnostic, side, direction, "body"), `${side} ${direction}`).to.deep.equal({ bytes: 1024 });
      }
      expect(input(diagnostic, side, "response", "headers")).to.include.members([
        "x-ms-region",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-remaining-requests",
        "Retry-After",
      ]);
    }
    expect(input(diagnostic, "frontend", "request", "dataMasking")).to.deep.equal({
      queryParams: [{ value: "api-key", mode: "Hide" }],
    });
    expect(JSON.stringify(diagnostic.inputs)).to.not.match(/"Authorization"|"api-key"\]/);
  });

  it("sends APIM's and every OpenAI account's platform logs and metrics to the workspace", () => {
    const settings = ofType(run.resources, TYPES.diagnosticSetting);
    const [service] = ofType(run.resources, TYPES.service);
    expect(settings.map((s) => input(s, "resourceUri"))).to.have.members([
      service.id,
      ...BACKENDS.map((b) => b.resourceId),
    ]);
    expect(settings).to.have.length(3);
    for (const s of settings) {
      expect(s.inputs).to.deep.include({
        workspaceId: workspace.id,
        logs: [{ categoryGroup: "allLogs", enabled: true }],
        metrics: [{ category: "AllMetrics", enabled: true }],
      });
    }
    expect(input(named(run.resources, "gateway-diag-apim"), "logAnalyticsDestinationType")).to.equal("Dedicated");
  });

  it("emits token metrics from the API policy", () => {
    const [metric] = findAll(child(policyOf(run), "inbound"), "azure-openai-emit-token-metric");
    expect(metric.attributes.namespace).to.equal(TOKEN_METRIC_NAMESPACE);
    expect(metric.children.map((d) => d.attributes.name)).to.deep.equal(["Subscription ID", "API ID", "Deployment"]);
  });

  it("exports the workspace id, the App Insights name and its connection string as a secret", () => {
    expect(run.outputs.workspaceId).to.equal(workspace.id);
    expect(run.outputs.appInsightsName).to.equal(input(insights, "resourceName"));
    expect(run.outputs.appInsightsConnectionString).to.equal(insights.state.connectionString);
    expect(run.secretOutputs).to.deep.equal(["appInsightsConnectionString"]);
  });
});

describe("gateway monitoring options", () => {
  it("creates none of it, and no token metric, when disabled", async () => {
    const run = await gateway({ monitoring: { enabled: false } });
    for (const type of [TYPES.workspace, TYPES.appInsights, TYPES.logger, TYPES.diagnostic, TYPES.diagnosticSetting]) {
      expect(ofType(run.resources, type), type).to.deep.equal([]);
    }
    expect(findAll(policyOf(run), "azure-openai-emit-token-metric")).to.deep.equal([]);
    expect(run.outputs.workspaceId).to.equal(undefined);
    expect(ofType(run.resources, TYPES.service)).to.have.length(1);
  });

  it("uses an existing workspace and Application Insights instead of creating them", async () => {
    const workspaceId = `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.OperationalInsights/workspaces/shared-logs`;
    const appInsightsId = `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.Insights/components/shared-ai`;
    const run = await gateway({
      monitoring: { workspaceResourceId: workspaceId, appInsightsResourceId: appInsightsId },
    });
    expect(ofType(run.resources, TYPES.workspace)).to.deep.equal([]);
    expect(ofType(run.resources, TYPES.appInsights)).to.deep.equal([]);
    expect(input(ofType(run.resources, TYPES.logger)[0], "resourceId")).to.equal(appInsightsId);
    expect(input(ofType(run.resources, TYPES.logger)[0], "credentials", "connectionString")).to.match(
      /^InstrumentationKey=/,
    );
    for (const s of ofType(run.resources, TYPES.diagnosticSetting)) {
      expect(input(s, "workspaceId")).to.equal(workspaceId);
    }
    expect(run.invokes).to.include("azure-native:applicationinsights:getComponent");
    expect(run.outputs.appInsightsName).to.equal("shared-ai");
  });

  it("leaves the accounts' diagnostic settings alone when asked (accounts owned elsewhere)", async () => {
    const run = await gateway({ monitoring: { openAiDiagnosticSettings: false } });
    expect(ofType(run.resources, TYPES.diagnosticSetting).map((s) => s.name)).to.deep.equal(["gateway-diag-apim"]);
  });

  it("limits tokens per subscription when a token limit is set", async () => {
    const run = await gateway({ tokenLimit: { tokensPerMinute: 20000 } });
    const [limit] = findAll(child(policyOf(run), "inbound"), "azure-openai-token-limit");
    expect(limit.attributes).to.include({
      "counter-key": '@((string)context.Variables["caller"])',
      "tokens-per-minute": "20000",
      "estimate-prompt-tokens": "true",
    });
  });

  it("parses resource ids of existing components", () => {
    expect(
      parseResourceId("/subscriptions/s/resourceGroups/rg-x/providers/Microsoft.Insights/components/ai-1"),
    ).to.deep.equal({
      subscriptionId: "s",
      resourceGroupName: "rg-x",
      name: "ai-1",
    });
    expect(() => parseResourceId("not-an-id")).to.throw("not an ARM resource id");
  });
});
