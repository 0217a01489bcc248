import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import {
  ALERT_RULE_LIST,
  ALERT_RULES,
  alertQuery,
  alertRulesFor,
  isoMinutes,
  type LogRule,
} from "../queries/alertRules";
import {
  datatableRows,
  kqlString,
  LOG_PREDICATES,
  loadQuery,
  placeholdersOf,
  renderQuery,
  scopeValues,
} from "../queries/kql";
import { WORKBOOK_PANELS, workbookContent, workbookPanels } from "../queries/workbook";
import tables from "./fixtures/log-tables.json";
import { checkKql, type TableColumns } from "./support/kql";

/*
 * The KQL of the alert rules and the workbook, checked as text against the tables and columns
 * Microsoft documents for what the diagnostic settings produce (test/fixtures/log-tables.json).
 */

const QUERIES = path.resolve(__dirname, "..", "queries");
const TABLES = Object.fromEntries(Object.entries(tables).filter(([name]) => !name.startsWith("_"))) as TableColumns;

const SCOPE = {
  serviceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw",
  appInsightsId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/ai",
  accountIds: [
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a",
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b",
  ],
};
/** A value for every placeholder a query file may have. */
const SAMPLE_VALUES: Record<string, string> = {
  ...scopeValues(SCOPE),
  minRequests: "10",
  windowMinutes: "15",
  capacityRows: datatableRows([
    ["gpt-4o", 300_000],
    ["embeddings", 120_000],
  ]),
  quotaRows: datatableRows([["team-a", 5_000_000, "Daily"]]),
  grain: "5m",
};

const kqlFiles = (folder: string) =>
  fs
    .readdirSync(path.join(QUERIES, folder))
    .filter((f) => f.endsWith(".kql"))
    .map((f) => `${folder}/${f}`);
const ALL_FILES = [...kqlFiles("alerts"), ...kqlFiles("workbook")];

describe("KQL files (queries/)", () => {
  it("are all used by an alert rule or a workbook panel, and every one named exists", () => {
    const used = [
      ...ALERT_RULE_LIST.filter((r): r is LogRule => r.kind === "log").map((r) => r.query),
      ...WORKBOOK_PANELS.map((p) => p.query),
    ];
    expect([...used].sort()).to.deep.equal([...ALL_FILES].sort());
  });

  for (const file of ALL_FILES) {
    it(`${file} names only documented tables and columns`, () => {
      const placeholders = placeholdersOf(loadQuery(file));
      expect(placeholders.filter((p) => !(p in SAMPLE_VALUES))).to.deep.equal([]);
      expect(checkKql(renderQuery(file, SAMPLE_VALUES), TABLES)).to.deep.equal([]);
    });
  }

  it("reads the scope from the gateway's own resources, so a shared workspace shows this gateway only", () => {
    for (const file of ALL_FILES) {
      const text = loadQuery(file);
      expect(/\{\{(serviceId|appInsightsId|accountIds)\}\}/.test(text), file).to.equal(true);
    }
  });
});

describe("the KQL checker (so the checks above can fail)", () => {
  const check = (query: string) => checkKql(query, TABLES);

  it("accepts a query over documented columns", () => {
    expect(
      check("ApiManagementGatewayLogs | where ResponseCode == 503 | summarize n = count() by Region"),
    ).to.deep.equal([]);
  });

  it("reports a misspelt column, an unknown table and an unknown function", () => {
    expect(check("ApiManagementGatewayLogs | where BackendResponseCod == 429")[0]).to.contain(
      "no column BackendResponseCod",
    );
    expect(check("ApiManagementGatewayLog | take 1")[0]).to.contain("no table ApiManagementGatewayLog");
    expect(check("AppMetrics | extend x = to_string(Name)")[0]).to.contain("unknown function to_string()");
  });

  it("follows the columns through the pipeline: gone after project and summarize, there after extend and join", () => {
    expect(check("AppMetrics | project Name | where Sum > 0")[0]).to.contain("no column Sum");
    expect(check("AppMetrics | summarize n = count() by Name | where ItemCount > 0")[0]).to.contain(
      "no column ItemCount",
    );
    expect(check("AppMetrics | where Doubled > 0 | extend Doubled = Sum * 2")[0]).to.contain("no column Doubled");
    expect(check("AppMetrics | extend Doubled = Sum * 2 | where Doubled > 0")).to.deep.equal([]);
    expect(
      check(
        'let t = datatable(Name: string, Limit: real) ["a", 1.0]; AppMetrics | join kind=inner (t) on Name | where Sum > Limit',
      ),
    ).to.deep.equal([]);
    expect(check('let t = datatable(Name: string) ["a"]; AppMetrics | join kind=inner (t) on Team')[0]).to.contain(
      "join key Team",
    );
  });

  it("reports unbalanced brackets and an operator it does not follow", () => {
    expect(check("AppMetrics | where (Sum > 0")).to.deep.equal(["unclosed bracket"]);
    expect(check("AppMetrics | mv-expand Properties")[0]).to.contain("operator mv-expand");
  });

  it("reads every column Microsoft lists for the four tables the diagnostic settings fill", () => {
    expect(Object.keys(TABLES)).to.deep.equal([
      "ApiManagementGatewayLogs",
      "AppMetrics",
      "AzureMetrics",
      "AzureDiagnostics",
    ]);
    expect(TABLES.ApiManagementGatewayLogs).to.include.members([
      "BackendResponseCode",
      "BackendUrl",
      "LastErrorSource",
      "Region",
    ]);
    // AppMetrics has no Count or Value column: the aggregate is Sum, the count ItemCount.
    expect(TABLES.AppMetrics).to.include.members(["Sum", "ItemCount", "Properties"]).and.not.include("Value");
  });
});

describe("query rendering", () => {
  it("writes KQL string literals with quotes and backslashes escaped", () => {
    expect(kqlString('a "b" \\c')).to.equal('"a \\"b\\" \\\\c"');
    expect(
      datatableRows([
        ["x", 5],
        ["y", 2.5],
      ]),
    ).to.equal('"x", 5.0, "y", 2.5');
  });

  it("refuses a query with a placeholder left without a value", () => {
    expect(() => renderQuery("alerts/token-usage.kql", scopeValues(SCOPE))).to.throw("no value for {{capacityRows}}");
  });

  it("puts the shared predicates into every query that names them, word for word", () => {
    const throttled = renderQuery("workbook/failovers.kql", SAMPLE_VALUES);
    expect(throttled).to.contain(LOG_PREDICATES.backendFailed).and.contain(LOG_PREDICATES.poolExhausted);
    expect(renderQuery("alerts/pool-exhausted.kql", SAMPLE_VALUES)).to.contain(LOG_PREDICATES.poolExhausted);
  });

  it("compares token usage with the capacity over the rule's window, and team use with each quota", () => {
    const usage = alertQuery(ALERT_RULES.tokenUsage as LogRule, {
      ...SCOPE,
      capacity: [{ deployment: "gpt-4o", tokensPerMinute: 300_000 }],
      quotas: [],
    });
    expect(usage).to.contain('datatable(Deployment: string, TokensPerMinute: real) ["gpt-4o", 300000.0]');
    // The token metric's Deployment is lower case: a deployment configured with capitals must still join.
    const capitals = alertQuery(ALERT_RULES.tokenUsage as LogRule, {
      ...SCOPE,
      capacity: [{ deployment: "GPT-4o", tokensPerMinute: 300_000 }],
      quotas: [],
    });
    expect(capitals).to.contain('["gpt-4o", 300000.0]').and.not.contain("GPT-4o");
    expect(usage).to.contain(`(TokensPerMinute * ${ALERT_RULES.tokenUsage.windowMinutes})`);
    const quota = alertQuery(ALERT_RULES.teamQuota as LogRule, {
      ...SCOPE,
      capacity: [],
      quotas: [{ team: "team-a", tokens: 1_000_000, period: "Monthly" }],
    });
    expect(quota).to.contain('["team-a", 1000000.0, "Monthly"]');
    expect(quota).to.contain(`_ResourceId =~ "${SCOPE.appInsightsId}"`);
  });

  it("writes durations as Azure Monitor takes them", () => {
    expect([5, 15, 60, 1440].map(isoMinutes)).to.deep.equal(["PT5M", "PT15M", "PT1H", "P1D"]);
  });
});

describe("alert catalogue", () => {
  it("leaves out the rules a gateway has no data for, and says why", () => {
    const all = alertRulesFor({ openAiLogs: true, capacityKnown: true, teamQuotas: true });
    expect(all.rules.map((r) => r.id)).to.deep.equal(ALERT_RULE_LIST.map((r) => r.id));
    const bare = alertRulesFor({ openAiLogs: false, capacityKnown: false, teamQuotas: false });
    expect(bare.rules.map((r) => r.id)).to.deep.equal(["backendFailing", "poolExhausted", "gatewayCapacity"]);
    expect(bare.skipped.map((s) => s.id)).to.deep.equal(["throttling", "tokenUsage", "teamQuota"]);
    expect(bare.skipped[0].why).to.contain("monitoring.openAiDiagnosticSettings");
  });

  it("evaluates no more often than it looks back, within Azure Monitor's windows for its kind of rule", () => {
    // Log search alerts: windowSize 5 minutes to a day (scheduledQueryRules); metric alerts: the
    // fixed windowSize and evaluationFrequency values of metricAlerts.
    const windows = {
      log: [5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440],
      metric: [1, 5, 15, 30, 60, 360, 720, 1440],
    };
    const frequencies = { log: [1, 5, 10, 15, 30, 45, 60], metric: [1, 5, 15, 30, 60] };
    for (const rule of ALERT_RULE_LIST) {
      expect(rule.frequencyMinutes, rule.id).to.be.at.most(rule.windowMinutes);
      expect(windows[rule.kind], rule.id).to.include(rule.windowMinutes);
      expect(frequencies[rule.kind], rule.id).to.include(rule.frequencyMinutes);
      expect(rule.defaultSeverity).to.be.within(0, 4);
      expect(rule.action.length, rule.id).to.be.above(80);
    }
  });

  it("gives every rule that needs several windows in a row a time column binned by its window", () => {
    const inputs = { ...SCOPE, capacity: [{ deployment: "gpt-4o", tokensPerMinute: 1 }], quotas: [] };
    const sustained = ALERT_RULE_LIST.filter((r): r is LogRule => r.kind === "log" && (r.failingWindows ?? 1) > 1);
    expect(sustained.map((r) => r.id)).to.include("throttling");
    for (const rule of sustained) {
      const summarize = alertQuery(rule, inputs)
        .split("\n")
        .find((line) => line.startsWith("| summarize"));
      expect(summarize, rule.id).to.contain(`by ${rule.dimension}, bin(TimeGenerated, ${rule.windowMinutes}m)`);
    }
  });
});

describe("workbook content", () => {
  const content = workbookContent(
    "OpenAI gateway gw",
    { ...SCOPE, workspaceId: "/subscriptions/S/WS" },
    { teams: true, accountLogs: true },
  );

  it("is a Notebook/1.0 document: a title, a time range and one query item per panel over the workspace", () => {
    expect(content.version).to.equal("Notebook/1.0");
    expect(content.items.map((i) => i.type)).to.deep.equal([1, 9, ...WORKBOOK_PANELS.map(() => 3)]);
    expect(content.fallbackResourceIds).to.deep.equal(["/subscriptions/s/ws"]);
    const parameters = content.items[1].content as { parameters: { name: string; type: number }[] };
    expect(parameters.parameters).to.deep.include({ ...parameters.parameters[0], name: "TimeRange", type: 4 });
  });

  it("bins time charts by the time range's grain, so a week and an hour both draw sensibly", () => {
    const latency = content.items.find((i) => i.name === "latency")!.content as { query: string };
    expect(latency.query).to.contain("bin(TimeGenerated, {TimeRange:grain})");
  });

  it("draws the tokens-per-team panel only for a gateway with teams, the per-account one only with account logs", () => {
    const ids = (teams: boolean, accountLogs: boolean) => workbookPanels({ teams, accountLogs }).map((p) => p.id);
    expect(ids(true, true)).to.include.members(["tokens-team", "tokens-account"]);
    expect(ids(false, true)).to.include("tokens-account").and.not.include("tokens-team");
    expect(ids(true, false)).to.include("tokens-team").and.not.include("tokens-account");
    expect(ids(false, false)).to.have.length(WORKBOOK_PANELS.length - 2);
  });
});
