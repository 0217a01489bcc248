import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { stringify } from "yaml";
import { main, parseCliArgs, runPlan } from "../offline/commands/plan";
import { CAPACITY_SKEW_LIMIT, planChecks } from "../offline/plan/checks";
import { buildPlan, PLACEHOLDER_NOTE, redactSecrets, SECRET_MARK } from "../offline/plan/plan";
import { retryFromPolicy } from "../offline/plan/topology";
import { retryCount } from "../policy-pack/policies";
import { runProgram } from "../offline/runtime/program";
import { listStacks, readStackFile, readStackFileAt } from "../offline/runtime/stackFile";
import type { GatewayModel, ModelMember } from "../simulator/model";
import { captureOutput } from "./helpers";
import { findAll, parseXml } from "../offline/plan/xml";

const ROOT = path.resolve(__dirname, "..");
const SNAPSHOTS = path.join(__dirname, "snapshots");

/** Every stack file in the repository (listed here with git's view of the tree, not listStacks), plus the production example. */
const STACK_FILES = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
const PLANNED_STACKS: { stack: string; stackFile?: string }[] = [
  ...STACK_FILES.map((f) => ({ stack: f.slice("Pulumi.".length, -".yaml".length) })),
  { stack: "prod-example", stackFile: path.join(ROOT, "Pulumi.prod.yaml.example") },
];

const captureMain = (argv: string[]) => captureOutput(() => main(argv));

describe("plan snapshots (what each stack would deploy)", () => {
  it("covers every Pulumi.<stack>.yaml in the repository, each with a snapshot", () => {
    expect(STACK_FILES).to.include("Pulumi.dev.yaml");
    expect([...listStacks(ROOT)].sort()).to.deep.equal(
      PLANNED_STACKS.filter((p) => !p.stackFile)
        .map((p) => p.stack)
        .sort(),
    );
    const snapshots = fs.readdirSync(SNAPSHOTS).filter((f) => f.startsWith("plan-"));
    expect(snapshots.sort()).to.deep.equal(PLANNED_STACKS.map((p) => `plan-${p.stack}.json`).sort());
  });

  for (const { stack, stackFile } of PLANNED_STACKS) {
    it(`stack ${stack} matches test/snapshots/plan-${stack}.json`, async () => {
      const { plan } = await runPlan({ stack, stackFile });
      const actual = JSON.stringify(plan, null, 2) + "\n";
      const file = path.join(SNAPSHOTS, `plan-${stack}.json`);
      if (process.env.UPDATE_SNAPSHOTS === "1") {
        fs.mkdirSync(SNAPSHOTS, { recursive: true });
        fs.writeFileSync(file, actual);
      }
      expect(fs.existsSync(file), `no snapshot ${file}: run \`npm test -- --update-snapshots\``).to.equal(true);
      const expected = fs.readFileSync(file, "utf8");
      expect(actual, "the plan changed; review the diff and run `npm test -- --update-snapshots`").to.equal(expected);
    });
  }

  it("is deterministic: two runs give byte-identical plans [heavy]", async () => {
    const first = JSON.stringify((await runPlan({ stack: "dev" })).plan);
    const second = JSON.stringify((await runPlan({ stack: "dev" })).plan);
    expect(second).to.equal(first);
  });
});

describe("npm run plan", () => {
  let dir: string;
  let result: { code: number; stdout: string; stderr: string };
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    result = await captureMain(["--stack", "dev", "--out", dir]);
  });

  it("prints the summary with every section and says which values are placeholders", () => {
    expect(result.code).to.equal(0);
    for (const heading of [
      "Resources by type:",
      "OpenAI instances (2):",
      "Backend pool pool-gpt-4o-mini (2 members",
      "Circuit breaker (per backend): trips after 1 failure(s) within PT1M on 429, 500-599",
      "Gateway retry: up to 1 on 429, 500, 502, 503, 504",
      "Capacity per deployment",
      "gpt-4o-mini (gpt-4o-mini): 20,000 TPM, 120 RPM; N-1 without swedencentral: 10,000 TPM, 60 RPM",
      "Policy pack (0 mandatory, 1 advisory;",
      "[advisory] pool-has-spillover: All members of pool gateway-pool-gpt-4o-mini share priority 1",
      "Plan checks (1):",
      "CustomMetricsOptedInType=WithDimensions",
      "placeholders",
    ]) {
      expect(result.stdout).to.contain(heading);
    }
    expect(result.stdout).to.match(
      /Azure endpoint for clients https:\/\/gateway-[a-z0-9]{6}\.azure-api\.net \(API at \/openai/,
    );
    expect(result.stdout).to.contain("enableClientCertificate not sent");
  });

  it("cites the resilience model: losing the largest instance for five minutes", () => {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    expect(plan.resilience).to.deep.include({
      deployment: "gpt-4o-mini",
      failedInstance: "swedencentral",
      requestsPerMinute: 24,
    });
    // 60 % of 20K TPM is more than the remaining 10K TPM instance can serve: some clients fail.
    expect(plan.resilience.outageSuccessRate).to.be.within(0.5, 0.99);
    expect(result.stdout).to.contain("Resilience (simulated");
    const spillover = plan.policyPack.find((v: { policy: string }) => v.policy === "pool-has-spillover");
    expect(spillover.simulated).to.match(/^with swedencentral answering 500 for 5 minutes/);
  });

  it("writes plan.json with every resource's type, name, parent and inputs", () => {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    expect(plan.note).to.equal(PLACEHOLDER_NOTE);
    const account = plan.resources.find(
      (r: { type: string; name: string }) =>
        r.type === "azure-native:cognitiveservices:Account" && r.name === "openai-swedencentral",
    );
    expect(account).to.include({ name: "openai-swedencentral", parent: "openai" });
    expect(account.inputs.properties.disableLocalAuth).to.equal(true);
    expect(Object.values(plan.resourceCounts as Record<string, number>).reduce((a, b) => a + b)).to.equal(
      plan.resources.length,
    );
  });

  it("writes the rendered policy and the OpenAPI document exactly as they would be deployed", async () => {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    const byType = (type: string) => plan.resources.find((r: { type: string }) => r.type === type);
    const policy = fs.readFileSync(path.join(dir, "policy.xml"), "utf8");
    expect(policy).to.equal(byType("azure-native:apimanagement:ApiPolicy").inputs.value);
    const routes = findAll(parseXml(policy), "set-variable").filter((v) => v.attributes.name === "pool");
    expect(routes.map((v) => v.attributes.value)).to.deep.equal(["pool-gpt-4o-mini"]);
    const spec = fs.readFileSync(path.join(dir, "openapi.json"), "utf8");
    expect(spec).to.equal(byType("azure-native:apimanagement:Api").inputs.value);
    await SwaggerParser.validate(JSON.parse(spec));
  });

  it("writes a Mermaid architecture diagram generated from the resources", () => {
    const md = fs.readFileSync(path.join(dir, "architecture.md"), "utf8");
    expect(md).to.contain("```mermaid\nflowchart LR");
    expect(md).to.contain('pool_gpt_4o_mini -- "p1 w1" --> openai_swedencentral_gpt_4o_mini');
    expect(md).to.contain('pool_gpt_4o_mini -- "p1 w1" --> openai_francecentral_gpt_4o_mini');
    expect(md).to.match(/openai_francecentral_gpt_4o_mini -- Entra ID --> openai_francecentral_[a-z0-9]{6}/);
    expect(md).to.contain('alerts{{"5 alert rules"}}\n  logs -.-> alerts\n  oncall(["platform-team@contoso.com"])');
  });

  it("writes each log alert's query and the workbook with each panel's query, as deployed", () => {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    const rules = plan.resources.filter((r: { type: string }) => r.type === "azure-native:monitor:ScheduledQueryRule");
    expect(fs.readdirSync(path.join(dir, "alerts")).sort()).to.deep.equal(
      rules.map((r: { name: string }) => `${r.name.replace("gateway-alert-", "")}.kql`).sort(),
    );
    for (const rule of rules) {
      const file = path.join(dir, "alerts", `${rule.name.replace("gateway-alert-", "")}.kql`);
      expect(fs.readFileSync(file, "utf8")).to.equal(rule.inputs.criteria.allOf[0].query);
    }
    const workbook = plan.resources.find(
      (r: { type: string }) => r.type === "azure-native:applicationinsights:Workbook",
    );
    const content = JSON.parse(fs.readFileSync(path.join(dir, "workbook", "workbook.json"), "utf8"));
    expect(content).to.deep.equal(JSON.parse(workbook.inputs.serializedData));
    for (const item of content.items.filter((i: { type: number }) => i.type === 3)) {
      expect(fs.readFileSync(path.join(dir, "workbook", `${item.name}.kql`), "utf8")).to.equal(
        item.content.query + "\n",
      );
    }
  });

  it("lists every alert with its threshold, window and who it tells", () => {
    expect(result.stdout).to.contain("Alerts (5; npm run plan writes each log rule's query to alerts/):");
    expect(result.stdout).to.contain(
      "  - Pool exhausted: clients refused [severity 1, error]: Requests ≥ 5 per Region over 5 min, checked every 5 min; tells platform-team@contoso.com",
    );
    expect(result.stdout).to.contain(
      "Sustained throttling of a deployment [severity 3, informational]: ThrottledPercent ≥ 20 per Deployment in 3 windows of 5 min in a row",
    );
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    expect(plan.operations.alerts.map((a: { id: string }) => a.id)).to.deep.equal([
      "backendFailing",
      "poolExhausted",
      "throttling",
      "tokenUsage",
      "gatewayCapacity",
    ]);
    expect(plan.operations.alerts[4]).to.include({ measure: "CpuPercent_Gateway (average)", threshold: 75 });
    expect(plan.operations.workbookPanels).to.include("Latency percentiles (ms)");
  });

  it("shows [secret] in plan.json where the program sends a secret (a CI artifact must not leak one)", () => {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    const logger = plan.resources.find((r: { type: string }) => r.type === "azure-native:apimanagement:Logger");
    expect(logger.inputs.credentials.connectionString).to.equal(SECRET_MARK);
    expect(logger.inputs.loggerType).to.equal("applicationInsights");
    expect(JSON.stringify(plan)).to.not.contain("InstrumentationKey=");
  });

  it("redacts secrets at any depth, list items included, and leaves the recorded inputs alone", () => {
    const inputs = { webhookReceivers: [{ name: "webhook", serviceUri: "https://hooks.contoso.com/t0ken" }], n: 1 };
    expect(redactSecrets(inputs, ["webhookReceivers.0.serviceUri", "missing.path"])).to.deep.equal({
      webhookReceivers: [{ name: "webhook", serviceUri: SECRET_MARK }],
      n: 1,
    });
    expect(inputs.webhookReceivers[0].serviceUri).to.equal("https://hooks.contoso.com/t0ken");
  });

  it("prints plan.json with --json", async () => {
    const json = await captureMain(["--stack", "dev", "--out", dir, "--json"]);
    expect(json.code).to.equal(0);
    expect(JSON.parse(json.stdout)).to.deep.equal(JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")));
  });

  it("fails with the program's config error message and a non-zero exit code", async () => {
    const file = path.join(dir, "Pulumi.broken.yaml");
    const config = {
      ...readStackFileConfig(),
      "openai-apim:apim": { sku: "Consumption", publisherEmail: "a@b.co", publisherName: "x" },
    };
    fs.writeFileSync(file, stringify({ config }));
    const broken = await captureMain(["--stack-file", file, "--out", dir]);
    expect(broken.code).to.equal(1);
    expect(broken.stderr).to.contain('openai-apim:apim.sku: got "Consumption"');
    expect(broken.stdout).to.equal("");
  });

  it("fails cleanly for a stack without a stack file", async () => {
    const missing = await captureMain(["--stack", "does-not-exist", "--out", dir]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^No stack file .*Pulumi\.does-not-exist\.yaml/);
  });

  it("plans a very large capacity (the probe scales load and capacity alike instead of simulating 144,000 requests)", async () => {
    const file = path.join(dir, "Pulumi.large.yaml");
    const config = readStackFileConfig();
    const deployments = config["openai-apim:deployments"] as Record<string, unknown>[];
    fs.writeFileSync(
      file,
      stringify({ config: { ...config, "openai-apim:deployments": [{ ...deployments[0], capacity: 6000 }] } }),
    );
    const large = await captureMain(["--stack-file", file, "--out", dir]);
    expect(large.code, large.stderr).to.equal(0);
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    expect(plan.resilience.requestsPerMinute).to.equal(14_400);
    expect(plan.resilience.scale).to.be.closeTo(600 / 14_400, 1e-6);
    // The dev stack's ratio of load to capacity, so about the dev stack's outcome (80 %).
    expect(plan.resilience.outageSuccessRate).to.be.within(0.7, 0.9);
  });

  it("reads YAML merge keys in stack files, as the Pulumi CLI does", async () => {
    const file = path.join(dir, "Pulumi.merged.yaml");
    fs.writeFileSync(
      file,
      [
        "base: &apim",
        "  sku: BasicV2",
        "  publisherEmail: platform@contoso.com",
        "config:",
        "  azure-native:location: swedencentral",
        "  openai-apim:instances: [{ location: swedencentral }, { location: francecentral }]",
        '  openai-apim:deployments: [{ name: chat, model: gpt-4o-mini, version: "2024-07-18", sku: GlobalStandard }]',
        "  openai-apim:apim:",
        "    <<: *apim",
        "    publisherName: Contoso",
        "",
      ].join("\n"),
    );
    const merged = await captureMain(["--stack-file", file, "--out", dir]);
    expect(merged.code, merged.stderr).to.equal(0);
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
    const service = plan.resources.find(
      (r: { type: string }) => r.type === "azure-native:apimanagement:ApiManagementService",
    );
    expect(service.inputs).to.deep.include({ sku: { name: "BasicV2", capacity: 1 }, publisherName: "Contoso" });
  });

  it("rejects unknown arguments with the usage text", () => {
    expect(parseCliArgs(["--stak", "dev"]))
      .to.be.a("string")
      .and.contain("Unknown argument --stak");
    expect(parseCliArgs(["--stack-file", "x/Pulumi.prod.yaml.example"])).to.deep.include({ stack: "prod" });
  });
});

function readStackFileConfig(): Record<string, unknown> {
  const engine = readStackFile("dev").config;
  return Object.fromEntries(
    Object.entries(engine).map(([k, v]) => {
      try {
        return [k, JSON.parse(v)];
      } catch {
        return [k, v];
      }
    }),
  );
}

describe("plan checks (what only the plan can judge: capacity and spill-over)", () => {
  const member = (name: string, priority: number, weight: number, sku = "Standard", capacity = 10): ModelMember => ({
    name,
    location: name,
    priority,
    weight,
    model: "gpt-4o",
    sku: sku as ModelMember["sku"],
    capacity,
  });
  const model = (members: ModelMember[]): GatewayModel => ({
    pools: [{ deployment: "chat", members }],
    retry: { count: 1, statusCodes: [429, 503], intervalSeconds: 0, firstFastRetry: true },
    poolRetryAfterSeconds: 60,
  });

  it("has nothing to say about pay-as-you-go members whose weights follow their capacity", () => {
    expect(planChecks(model([member("a", 1, 90, "Standard", 90), member("b", 1, 10, "Standard", 10)]))).to.deep.equal(
      [],
    );
  });

  it("warns about PTUs without a pay-as-you-go tier behind them", () => {
    const warnings = planChecks(
      model([member("a", 1, 1, "ProvisionedManaged", 50), member("b", 2, 1, "ProvisionedManaged", 50)]),
    );
    expect(warnings).to.deep.equal([
      "Deployment chat: provisioned (PTU) capacity has no pay-as-you-go spill-over at a lower priority; when the PTUs are saturated clients get 429.",
    ]);
    expect(planChecks(model([member("a", 1, 1, "ProvisionedManaged", 50), member("b", 2, 1)]))).to.deep.equal([]);
  });

  it(`warns when capacity per unit of weight differs more than ${CAPACITY_SKEW_LIMIT}x in a priority group`, () => {
    const warnings = planChecks(
      model([member("a", 1, 1, "Standard", 100), member("b", 1, 1, "Standard", 10), member("c", 2, 1)]),
    );
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(
      /^Deployment chat, priority 1: capacity per unit of weight differs more than 2x \(a 100000, b 10000 TPM per weight\)/,
    );
  });

  it("gives the simulator the policy's forward-request timeout (api.backendTimeoutSeconds)", async () => {
    expect((await runPlan({ stack: "dev" })).model.backendTimeoutSeconds).to.equal(240);
    const config = { ...readStackFile("dev").config, "openai-apim:api": JSON.stringify({ backendTimeoutSeconds: 90 }) };
    const run = await runProgram({ config, stack: "dev" });
    expect((await buildPlan(run.resources, "dev")).model.backendTimeoutSeconds).to.equal(90);
  });

  it("reads the pool retry back from a rendered policy, not the one that calls single accounts", () => {
    const accounts = `<retry condition='@(false)' count="9" interval="0" first-fast-retry="true"><set-backend-service backend-id='@((string)context.Variables["candidates"])' /><forward-request /></retry>`;
    const pool = `<retry condition="@(context.Response != null ? (context.Response.StatusCode == 429 || context.Response.StatusCode == 500) : false)" count="3" interval="2" delta="1" first-fast-retry="false"><set-backend-service backend-id='@((string)context.Variables["pool"])' /><forward-request /></retry>`;
    const policy = `<policies><backend><choose><when condition="@(true)">${accounts}</when><otherwise>${pool}</otherwise></choose></backend></policies>`;
    expect(retryFromPolicy(policy)).to.deep.equal({
      count: 3,
      statusCodes: [429, 500],
      intervalSeconds: 2,
      deltaSeconds: 1,
      maxIntervalSeconds: undefined,
      firstFastRetry: false,
    });
    expect(retryCount(policy)).to.equal(3);
    const noPoolRetry = `<policies><backend>${accounts}</backend></policies>`;
    expect(retryFromPolicy(noPoolRetry).count).to.equal(0);
    expect(retryCount(noPoolRetry)).to.equal(0);
  });
});

describe("the plan and the policy pack agree (one definition of each rule)", () => {
  const prodExample = readStackFileAt(path.join(ROOT, "Pulumi.prod.yaml.example")).config;
  const developerProd = {
    ...prodExample,
    "openai-apim:apim": JSON.stringify({ sku: "Developer", publisherEmail: "a@b.co", publisherName: "x" }),
  };
  // What the pack decides for each, written out: "preprod" is not production, "prd" and "eu-prod" are
  // (common/environment.ts), and the plan must show exactly the pack's verdicts.
  const cases: [string, Record<string, string>, string[]][] = [
    ["dev", readStackFile("dev").config, ["pool-has-spillover (advisory)"]],
    ["dev-private", readStackFile("dev-private").config, ["pool-has-spillover (advisory)"]],
    ["prod", prodExample, []],
    ["preprod", developerProd, []],
    [
      "prd",
      developerProd,
      ["no-developer-tier-in-production (mandatory)", "gateway-survives-zone-or-region (mandatory)"],
    ],
    [
      "eu-prod",
      developerProd,
      ["no-developer-tier-in-production (mandatory)", "gateway-survives-zone-or-region (mandatory)"],
    ],
  ];
  for (const [stack, config, expected] of cases) {
    // dev and prod in the fast suite; the other stacks with the slow one.
    it(`shows the pack's verdicts for a stack named ${stack}${["dev", "prod"].includes(stack) ? "" : " [heavy]"}`, async () => {
      const run = await runProgram({ config, stack });
      const { plan } = await buildPlan(run.resources, stack);
      expect(plan.policyPack.map((v) => `${v.policy} (${v.enforcementLevel})`)).to.deep.equal(expected);
    });
  }
});
