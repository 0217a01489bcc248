import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { stringify } from "yaml";
import { main, parseCliArgs, runPlan } from "../offline/plan";
import { PLACEHOLDER_NOTE } from "../offline/planReport";
import { listStacks, readStackFile } from "../offline/stackFile";
import { planWarnings, retryFromPolicy, type Topology } from "../offline/topology";
import { captureOutput } from "./helpers";
import { child, findAll, parseXml } from "./xml";

const ROOT = path.resolve(__dirname, "..");
const SNAPSHOTS = path.join(__dirname, "snapshots");

/** Every stack file in the repository, plus the production example. */
const PLANNED_STACKS: { stack: string; stackFile?: string }[] = [
  ...listStacks(ROOT).map((stack) => ({ stack })),
  { stack: "prod-example", stackFile: path.join(ROOT, "Pulumi.prod.yaml.example") },
];

const captureMain = (argv: string[]) => captureOutput(() => main(argv));

describe("plan snapshots (what each stack would deploy)", () => {
  it("covers every Pulumi.<stack>.yaml in the repository", () => {
    expect(PLANNED_STACKS.map((s) => s.stack)).to.include("dev");
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

  it("is deterministic: two runs give byte-identical plans", async () => {
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
      "Backend pool openai-pool (2 members",
      "Circuit breaker (per backend): trips after 1 failure(s) within PT1M on 429, 500-599",
      "Gateway retry: up to 1 on 429, 503",
      "Capacity per deployment",
      "gpt-4o-mini (gpt-4o-mini): 20,000 TPM, 120 RPM; N-1 without openai-swedencentral: 10,000 TPM, 60 RPM",
      "Warnings (1):",
      "placeholders",
    ]) {
      expect(result.stdout).to.contain(heading);
    }
    expect(result.stdout).to.match(/endpoint https:\/\/gateway-[a-z0-9]{6}\.azure-api\.net\/openai/);
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
    expect(plan.warnings.find((w: string) => w.startsWith("All 2 instances share priority 1"))).to.contain(
      "Simulated: with swedencentral",
    );
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
    expect(findAll(parseXml(policy), "set-backend-service")[0].attributes["backend-id"]).to.equal("openai-pool");
    const spec = fs.readFileSync(path.join(dir, "openapi.json"), "utf8");
    expect(spec).to.equal(byType("azure-native:apimanagement:Api").inputs.value);
    await SwaggerParser.validate(JSON.parse(spec));
  });

  it("writes a Mermaid architecture diagram generated from the resources", () => {
    const md = fs.readFileSync(path.join(dir, "architecture.md"), "utf8");
    expect(md).to.contain("```mermaid\nflowchart LR");
    expect(md).to.contain('pool -- "p1 w1" --> openai_swedencentral');
    expect(md).to.contain('pool -- "p1 w1" --> openai_francecentral');
    expect(md).to.match(/openai_francecentral -- Entra ID --> openai_francecentral_[a-z0-9]{6}/);
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

  it("works as a command from a shell (npm run plan)", function () {
    this.timeout(60_000);
    const run = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "dev", "--out", dir], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('Offline plan for stack "dev"');
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

describe("plan warnings", () => {
  const instance = (
    location: string,
    priority: number,
    weight: number,
    sku = "Standard",
    capacity = 10,
    name = location,
  ) => ({
    resource: name,
    accountName: name,
    location,
    endpoint: `https://${name}.openai.azure.com/`,
    priority,
    weight,
    backendId: name,
    deployments: [{ name: "chat", model: "gpt-4o", version: "1", sku: sku as "Standard", capacity }],
  });
  const breaker = {
    failureCount: 1,
    interval: "PT1M",
    tripDuration: "PT1M",
    statusCodes: [{ min: 429, max: 429 }],
    acceptRetryAfter: true,
  };
  const topology = (overrides: Partial<Topology> = {}): Topology => ({
    instances: [instance("swedencentral", 1, 1), instance("francecentral", 2, 1)],
    breakers: { swedencentral: breaker, francecentral: breaker },
    retry: { count: 1, statusCodes: [429, 503], intervalSeconds: 0, firstFastRetry: true },
    monitoring: { workspace: true, appInsights: true, diagnosticSettings: 3, tokenMetric: true },
    ...overrides,
  });

  it("has nothing to say about two regions at two priorities with breakers and retries", () => {
    expect(planWarnings(topology(), "dev")).to.deep.equal([]);
  });

  const cases: [string, Partial<Topology>, RegExp, string?][] = [
    [
      "a single region",
      {
        instances: [
          instance("swedencentral", 1, 1, "Standard", 10, "a"),
          instance("swedencentral", 2, 1, "Standard", 10, "b"),
        ],
      },
      /^Single region/,
    ],
    [
      "one priority for all",
      { instances: [instance("swedencentral", 1, 1), instance("francecentral", 1, 1)] },
      /share priority 1: there is no spill-over/,
    ],
    [
      "a disabled breaker",
      { breakers: { swedencentral: undefined, francecentral: breaker } },
      /Circuit breaker disabled on swedencentral/,
    ],
    [
      "a breaker blind to 429",
      { breakers: { swedencentral: { ...breaker, statusCodes: [{ min: 500, max: 599 }] } } },
      /does not count 429/,
    ],
    [
      "no retries",
      { retry: { count: 0, statusCodes: [], intervalSeconds: 0, firstFastRetry: false } },
      /Retry count is 0/,
    ],
    [
      "PTU without pay-as-you-go spill-over",
      {
        instances: [
          instance("swedencentral", 1, 1, "ProvisionedManaged", 50),
          instance("francecentral", 2, 1, "ProvisionedManaged", 50),
        ],
      },
      /provisioned \(PTU\) capacity has no pay-as-you-go spill-over/,
    ],
    [
      "skewed capacity in a priority group",
      {
        instances: [
          instance("swedencentral", 1, 1, "Standard", 100),
          instance("francecentral", 1, 1, "Standard", 10),
          instance("eastus2", 2, 1),
        ],
      },
      /differs more than 2x/,
    ],
    [
      "Developer tier in production",
      { gateway: { serviceName: "g", sku: "Developer", capacity: 1, gatewayUrl: "https://g" } },
      /looks like production/,
      "prod",
    ],
  ];
  for (const [what, overrides, pattern, stack] of cases) {
    it(`warns about ${what}`, () => {
      const warnings = planWarnings(topology(overrides), stack ?? "dev");
      expect(
        warnings.some((w) => pattern.test(w)),
        warnings.join("\n"),
      ).to.equal(true);
    });
  }

  it("accepts skewed capacity when the weights follow it", () => {
    const warnings = planWarnings(
      topology({
        instances: [
          instance("swedencentral", 1, 90, "Standard", 90),
          instance("francecentral", 1, 10, "Standard", 10),
          instance("eastus2", 2, 1),
        ],
      }),
      "dev",
    );
    expect(warnings.filter((w) => /differs/.test(w))).to.deep.equal([]);
  });

  it("reads retry settings back from a rendered policy", () => {
    const policy = `<policies><backend><retry condition="@(context.Response != null ? (context.Response.StatusCode == 429 || context.Response.StatusCode == 500) : false)" count="3" interval="2" first-fast-retry="false"><forward-request /></retry></backend></policies>`;
    expect(retryFromPolicy(policy)).to.deep.equal({
      count: 3,
      statusCodes: [429, 500],
      intervalSeconds: 2,
      firstFastRetry: false,
    });
    expect(child(parseXml(policy), "backend").children[0].tag).to.equal("retry");
  });
});
