import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ConfigError } from "../common/errors";
import { ApimGateway } from "../components/apimGateway";
import type { ApimBackendArgs, ApimGatewayArgs } from "../components/apimGatewayArgs";
import { ACTION_GROUP_SHORT_NAME } from "../components/gatewayAlerts";
import { deploymentCapacity } from "../components/gatewayAlertsArgs";
import { parseStackConfig } from "../program/stackConfig";
import { ALERT_RULES } from "../queries/alertRules";
import { WORKBOOK_PANELS } from "../queries/workbook";
import { operationsOf, receivers } from "../offline/plan/operations";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";
import tables from "./fixtures/log-tables.json";
import { attempt, existingBackend, gatewayArgs, input, named, ofType, TYPES } from "./helpers";
import { checkKql, type TableColumns } from "./support/kql";

/*
 * The operations side under mocks: the action group and its receivers, every alert rule's scope,
 * query or metric, threshold, window and action, the workbook and its content, and the toggles.
 */

const ACTION_GROUP = "azure-native:monitor:ActionGroup";
const LOG_ALERT = "azure-native:monitor:ScheduledQueryRule";
const METRIC_ALERT = "azure-native:monitor:MetricAlert";
const WORKBOOK = "azure-native:applicationinsights:Workbook";
const TABLES = Object.fromEntries(Object.entries(tables).filter(([name]) => !name.startsWith("_"))) as TableColumns;
const ON_CALL =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/on-call";

const BACKENDS: ApimBackendArgs[] = [
  {
    ...existingBackend("sweden", "swedencentral", 1, 1, ["chat", "embed"]),
    tokensPerMinute: { chat: 300_000, embed: 100_000 },
  },
  { ...existingBackend("france", "francecentral", 2, 1, ["chat"]), tokensPerMinute: { chat: 150_000 } },
];

const BASE: ApimGatewayArgs = gatewayArgs(BACKENDS);

function gateway(args: Partial<ApimGatewayArgs> = {}): Promise<ProgramRun> {
  return runMocked({ config: {} }, () => {
    new ApimGateway("gateway", { ...BASE, ...args });
    return {};
  });
}

const logAlert = (run: ProgramRun, rule: string) => named(run.resources, `gateway-alert-${rule}`);
const condition = (rule: RecordedResource) => (input(rule, "criteria", "allOf") as Record<string, unknown>[])[0];
const byType = (run: ProgramRun, type: string) => ofType(run.resources, type);

describe("alerts (monitoring on, receivers, teams with quotas)", () => {
  let run: ProgramRun;
  let service: RecordedResource;
  let workspaceId: string;
  let appInsightsId: string;
  before(async () => {
    run = await gateway({
      clientAuth: { subscriptionKey: true },
      teams: [
        { name: "search", tokensPerMinute: 50_000, tokenQuota: { tokens: 10_000_000, period: "Daily" } },
        { name: "chatbot", tokensPerMinute: 20_000 },
      ],
      alerts: {
        emails: ["oncall@contoso.com", "platform@contoso.com"],
        webhookUrl: "https://hooks.contoso.com/alerts?token=abc",
        actionGroupIds: [ON_CALL],
        thresholds: { backendFailing: 30 },
        severities: { poolExhausted: 0 },
      },
    });
    [service] = byType(run, TYPES.service);
    workspaceId = byType(run, TYPES.workspace)[0].id!;
    appInsightsId = byType(run, TYPES.appInsights)[0].id!;
  });

  it("creates one action group with every e-mail and the webhook, in the common alert schema, the webhook secret", () => {
    const [group] = byType(run, ACTION_GROUP);
    expect(group.inputs).to.deep.include({
      location: "Global",
      enabled: true,
      groupShortName: ACTION_GROUP_SHORT_NAME,
      resourceGroupName: "rg-gw",
      emailReceivers: [
        { name: "email-1", emailAddress: "oncall@contoso.com", useCommonAlertSchema: true },
        { name: "email-2", emailAddress: "platform@contoso.com", useCommonAlertSchema: true },
      ],
      webhookReceivers: [
        { name: "webhook", serviceUri: "https://hooks.contoso.com/alerts?token=abc", useCommonAlertSchema: true },
      ],
    });
    expect(ACTION_GROUP_SHORT_NAME.length).to.be.at.most(12);
    expect(group.secretInputs).to.include("webhookReceivers.0.serviceUri");
    expect(group.additionalSecretOutputs).to.include("webhookReceivers");
  });

  it("creates the five log rules over the workspace, in its region, each telling both action groups", () => {
    const [group] = byType(run, ACTION_GROUP);
    const rules = byType(run, LOG_ALERT);
    expect(rules.map((r) => r.name)).to.deep.equal(
      ["backend-failing", "pool-exhausted", "throttling", "token-usage", "team-quota"].map((r) => `gateway-alert-${r}`),
    );
    for (const rule of rules) {
      expect(rule.inputs).to.deep.include({
        kind: "LogAlert",
        location: "swedencentral",
        scopes: [workspaceId],
        enabled: true,
        autoMitigate: true,
        skipQueryValidation: true,
        actions: { actionGroups: [group.id, ON_CALL] },
      });
      expect(input(rule, "ruleName")).to.match(/^gateway-[a-z-]+-[a-z0-9]{6}$/);
    }
  });

  it("gives each rule its measure, dimension, threshold, window and severity (configured values win)", () => {
    const expected: [string, keyof typeof ALERT_RULES, string, string, number, number, string, string, number][] = [
      ["backend-failing", "backendFailing", "FailedPercent", "Backend", 30, 2, "PT5M", "PT15M", 1],
      ["pool-exhausted", "poolExhausted", "Requests", "Region", 5, 0, "PT5M", "PT5M", 1],
      ["throttling", "throttling", "ThrottledPercent", "Deployment", 20, 3, "PT5M", "PT5M", 3],
      ["token-usage", "tokenUsage", "UsedPercent", "Deployment", 80, 3, "PT5M", "PT15M", 1],
      ["team-quota", "teamQuota", "UsedPercent", "Team", 80, 3, "PT15M", "PT1H", 1],
    ];
    for (const [name, id, measure, dimension, threshold, severity, frequency, window, periods] of expected) {
      const rule = logAlert(run, name);
      expect(rule.inputs, name).to.deep.include({
        displayName: ALERT_RULES[id].title,
        description: ALERT_RULES[id].action,
        severity,
        evaluationFrequency: frequency,
        windowSize: window,
      });
      expect(condition(rule), name).to.deep.include({
        metricMeasureColumn: measure,
        timeAggregation: "Maximum",
        operator: "GreaterThanOrEqual",
        threshold,
        dimensions: [{ name: dimension, operator: "Include", values: ["*"] }],
        failingPeriods: { numberOfEvaluationPeriods: periods, minFailingPeriodsToAlert: periods },
      });
    }
    expect(input(logAlert(run, "team-quota"), "overrideQueryTimeRange")).to.equal("P1D");
    expect(input(logAlert(run, "throttling"), "overrideQueryTimeRange")).to.equal(undefined);
  });

  it("sends queries that name only documented columns and filter on this gateway's own resources", () => {
    for (const rule of byType(run, LOG_ALERT)) {
      const query = condition(rule).query as string;
      expect(checkKql(query, TABLES), rule.name).to.deep.equal([]);
    }
    expect(condition(logAlert(run, "backend-failing")).query).to.contain(`_ResourceId =~ "${service.id}"`);
    expect(condition(logAlert(run, "throttling")).query).to.contain(
      `_ResourceId in~ ("${BACKENDS[0].resourceId}", "${BACKENDS[1].resourceId}")`,
    );
    expect(condition(logAlert(run, "token-usage")).query).to.contain(`_ResourceId =~ "${appInsightsId}"`);
  });

  it("compares token usage with the sum of each deployment's accounts, and quotas per team", () => {
    const usage = condition(logAlert(run, "token-usage")).query as string;
    expect(usage).to.contain('["chat", 450000.0, "embed", 100000.0]');
    const quota = condition(logAlert(run, "team-quota")).query as string;
    // Only teams with a quota: chatbot has a rate alone.
    expect(quota).to.contain('["search", 10000000.0, "Daily"]').and.not.contain("chatbot");
  });

  it("alerts on the gateway's CPU (v2 tier) with a metric alert on the APIM instance", () => {
    const [group] = byType(run, ACTION_GROUP);
    const [rule] = byType(run, METRIC_ALERT);
    expect(rule.inputs).to.deep.include({
      location: "global",
      scopes: [service.id],
      severity: 2,
      enabled: true,
      evaluationFrequency: "PT5M",
      windowSize: "PT15M",
      actions: [{ actionGroupId: group.id }, { actionGroupId: ON_CALL }],
      criteria: {
        odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
        allOf: [
          {
            criterionType: "StaticThresholdCriterion",
            name: "gatewayCapacity",
            metricNamespace: "Microsoft.ApiManagement/service",
            metricName: "CpuPercent_Gateway",
            operator: "GreaterThanOrEqual",
            threshold: 75,
            timeAggregation: "Average",
          },
        ],
      },
    });
  });

  it("deploys the workbook over the workspace, with a GUID name, its panels and this gateway's scope", () => {
    const [workbook] = byType(run, WORKBOOK);
    expect(workbook.inputs).to.deep.include({
      kind: "shared",
      category: "workbook",
      version: "Notebook/1.0",
      location: "swedencentral",
      sourceId: workspaceId.toLowerCase(),
      resourceGroupName: "rg-gw",
    });
    expect(input(workbook, "resourceName")).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const content = JSON.parse(input(workbook, "serializedData") as string) as {
      items: {
        type: number;
        name: string;
        content: { title?: string; query?: string; crossComponentResources?: string[] };
      }[];
    };
    const panels = content.items.filter((i) => i.type === 3);
    expect(panels.map((p) => p.content.title)).to.deep.equal(WORKBOOK_PANELS.map((p) => p.title));
    for (const panel of panels) {
      expect(panel.content.crossComponentResources).to.deep.equal([workspaceId.toLowerCase()]);
      expect(panel.content.query).to.match(/_ResourceId (=~|in~) /);
    }
    expect(panels.find((p) => p.name === "latency")!.content.query).to.contain(`"${service.id}"`);
  });

  it("names the workbook the same on every run, and each gateway's workbook differently", async () => {
    const again = await gateway({ alerts: { enabled: false } });
    const first = input(byType(run, WORKBOOK)[0], "resourceName");
    expect(input(byType(again, WORKBOOK)[0], "resourceName")).to.equal(first);
    const other = await runMocked({ config: {} }, () => {
      new ApimGateway("gateway-two", BASE);
      return {};
    });
    expect(input(byType(other, WORKBOOK)[0], "resourceName")).to.not.equal(first);
  });
});

describe("alerts: tiers, regions and what a gateway lacks", () => {
  it("alerts on Capacity per region for a classic tier in several regions", async () => {
    const run = await gateway({
      sku: { name: "Premium", capacity: 1 },
      additionalLocations: [{ location: "francecentral", capacity: 1 }],
    });
    const criterion = condition(byType(run, METRIC_ALERT)[0]);
    expect(criterion).to.deep.include({
      metricName: "Capacity",
      dimensions: [{ name: "Location", operator: "Include", values: ["*"] }],
    });
  });

  it("creates rules without an action group when nobody is named (they still fire in the portal)", async () => {
    const run = await gateway({
      monitoring: { openAiDiagnosticSettings: false },
      backends: BACKENDS.map(({ tokensPerMinute: _, ...backend }) => backend),
    });
    expect(byType(run, ACTION_GROUP)).to.deep.equal([]);
    // No account logs: no throttling rule; no capacity figures: no token rule; no teams: no quota rule.
    expect(byType(run, LOG_ALERT).map((r) => r.name)).to.deep.equal([
      "gateway-alert-backend-failing",
      "gateway-alert-pool-exhausted",
    ]);
    expect(input(byType(run, LOG_ALERT)[0], "actions")).to.deep.equal({ actionGroups: [] });
    expect(input(byType(run, METRIC_ALERT)[0], "actions")).to.deep.equal([]);
  });

  it("puts log rules and the workbook in an existing workspace's region", async () => {
    const workspace =
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/central";
    const run = await gateway({ monitoring: { workspaceResourceId: workspace } });
    expect(run.invokes).to.include("azure-native:operationalinsights:getWorkspace");
    for (const resource of [...byType(run, LOG_ALERT), ...byType(run, WORKBOOK)]) {
      expect(input(resource, "location")).to.equal("existing-workspace-region");
    }
    expect(input(byType(run, LOG_ALERT)[0], "scopes")).to.deep.equal([workspace]);
  });

  it("puts them in the gateway's region when the workspace is in another subscription (no lookup there)", async () => {
    const workspace =
      "/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/central";
    const run = await gateway({ monitoring: { workspaceResourceId: workspace } });
    expect(run.invokes).to.not.include("azure-native:operationalinsights:getWorkspace");
    for (const resource of [...byType(run, LOG_ALERT), ...byType(run, WORKBOOK)]) {
      expect(input(resource, "location")).to.equal("swedencentral");
    }
    expect(input(byType(run, WORKBOOK)[0], "sourceId")).to.equal(workspace.toLowerCase());
  });

  it("sums a deployment's capacity only when every account hosting it states one", () => {
    expect(
      deploymentCapacity([
        { deployments: ["chat", "embed"], tokensPerMinute: { chat: 10, embed: 5 } },
        { deployments: ["chat"], tokensPerMinute: { chat: 20 } },
        { deployments: ["embed"] },
      ]),
    ).to.deep.equal([{ deployment: "chat", tokensPerMinute: 30 }]);
    // Names are case-insensitive in Azure: one deployment, whatever each account's spelling.
    expect(
      deploymentCapacity([
        { deployments: ["Chat"], tokensPerMinute: { chat: 10 } },
        { deployments: ["chat"], tokensPerMinute: { CHAT: 20 } },
      ]),
    ).to.deep.equal([{ deployment: "Chat", tokensPerMinute: 30 }]);
  });
});

describe("alerts: toggles", () => {
  it("creates no alert, action group or workbook with monitoring off, even with receivers still configured", async () => {
    for (const alerts of [undefined, { emails: ["oncall@contoso.com"], thresholds: { throttling: 30 } }]) {
      const run = await gateway({ monitoring: { enabled: false }, alerts });
      for (const type of [ACTION_GROUP, LOG_ALERT, METRIC_ALERT, WORKBOOK]) {
        expect(byType(run, type), type).to.deep.equal([]);
      }
      expect(byType(run, TYPES.apiPolicy)).to.have.length(1);
    }
  });

  it("keeps the workbook and creates no rule or action group with alerts off", async () => {
    const run = await gateway({ alerts: { enabled: false, emails: ["oncall@contoso.com"] } });
    for (const type of [ACTION_GROUP, LOG_ALERT, METRIC_ALERT]) {
      expect(byType(run, type), type).to.deep.equal([]);
    }
    expect(byType(run, WORKBOOK)).to.have.length(1);
  });
});

describe("alerts: bad input is refused before anything is registered", () => {
  async function problems(args: unknown) {
    const { error, registered } = await attempt(() => new ApimGateway("gw", { ...BASE, ...(args as object) }));
    expect(registered).to.deep.equal([]);
    expect(error).to.be.instanceOf(ConfigError);
    expect(pulumi.RunError.isInstance(error)).to.equal(true);
    return (error as ConfigError).problems;
  }

  const cases: [string, unknown, string, string][] = [
    [
      "alerts explicitly on with monitoring off",
      { monitoring: { enabled: false }, alerts: { enabled: true, emails: ["a@contoso.com"] } },
      "args.alerts.enabled",
      "monitoring.enabled is false",
    ],
    ["a malformed e-mail", { alerts: { emails: ["oncall-at-contoso"] } }, "args.alerts.emails[0]", "an e-mail address"],
    [
      "two capacity figures for one deployment, differing in case",
      { backends: [{ ...BACKENDS[1], tokensPerMinute: { chat: 10, CHAT: 20 } }] },
      "args.backends[0].tokensPerMinute.CHAT",
      'one figure per deployment: "chat" already names it',
    ],
    [
      "a repeated e-mail",
      { alerts: { emails: ["a@contoso.com", "A@contoso.com"] } },
      "args.alerts.emails[1]",
      "emails[0]",
    ],
    [
      "a plain http webhook",
      { alerts: { webhookUrl: "http://hooks.contoso.com" } },
      "args.alerts.webhookUrl",
      "https://",
    ],
    [
      "an action group id of another type",
      { alerts: { actionGroupIds: ["/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/x"] } },
      "args.alerts.actionGroupIds[0]",
      "actionGroups/<name>",
    ],
    [
      "a percentage above 100",
      { alerts: { thresholds: { throttling: 150 } } },
      "args.alerts.thresholds.throttling",
      "1 to 100",
    ],
    ["a misspelt rule", { alerts: { thresholds: { poolExhaused: 3 } } }, "args.alerts.thresholds", '"poolExhausted"'],
    [
      "severity 5",
      { alerts: { severities: { tokenUsage: 5 } } },
      "args.alerts.severities.tokenUsage",
      "0 (critical) to 4",
    ],
    [
      "a capacity for a deployment the backend does not host",
      { backends: [{ ...BACKENDS[1], tokensPerMinute: { embed: 1000 } }] },
      "args.backends[0].tokensPerMinute.embed",
      "one of chat",
    ],
  ];
  for (const [what, args, key, allowed] of cases) {
    it(`refuses ${what}`, async () => {
      const found = await problems(args);
      expect(found.map((p) => p.key)).to.include(key);
      expect(found.find((p) => p.key === key)!.allowed).to.contain(allowed);
    });
  }

  it("names openai-apim:alerts in stack config errors", () => {
    try {
      parseStackConfig({
        location: "swedencentral",
        instances: [{ location: "swedencentral" }],
        deployments: [{ name: "chat", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard" }],
        apim: { sku: "BasicV2", publisherEmail: "p@contoso.com", publisherName: "Contoso" },
        monitoring: { enabled: false },
        alerts: { enabled: true, severities: { gatewayCapacity: -1 } },
      });
      expect.fail("accepted");
    } catch (err) {
      const keys = (err as ConfigError).problems.map((p) => p.key);
      expect(keys).to.include.members(["openai-apim:alerts.enabled", "openai-apim:alerts.severities.gatewayCapacity"]);
    }
  });
});

describe("alerts in the offline plan", () => {
  it("says who each alert tells: the stack's receivers, existing action groups, or nobody", async () => {
    const silent = operationsOf((await gateway()).resources);
    expect(receivers(silent, silent.alerts[0])).to.equal("nobody (no receivers: the alert shows in the portal only)");
    const told = operationsOf(
      (await gateway({ alerts: { emails: ["oncall@contoso.com"], actionGroupIds: [ON_CALL] } })).resources,
    );
    expect(told.alerts.map((a) => receivers(told, a))).to.deep.equal(
      told.alerts.map(() => "oncall@contoso.com, action group on-call"),
    );
  });
});
