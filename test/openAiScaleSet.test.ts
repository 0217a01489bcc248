import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ConfigError } from "../common/errors";
import { createSequentially, OpenAiScaleSet } from "../components/openAiScaleSet";
import type { OpenAiDeploymentArgs, OpenAiInstanceArgs, OpenAiScaleSetArgs } from "../components/openAiScaleSetArgs";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";
import { attempt, input, named, ofType, TYPES } from "./helpers";

const REGIONS_3: OpenAiInstanceArgs[] = [
  { location: "swedencentral", priority: 1 },
  { location: "francecentral", priority: 1 },
  { location: "eastus2", priority: 2 },
];
const MODELS_2: OpenAiDeploymentArgs[] = [
  { name: "gpt-4o", model: "gpt-4o", version: "2024-11-20", sku: "GlobalStandard", capacity: 50 },
  { name: "embeddings", model: "text-embedding-3-small", version: "1", sku: "DataZoneStandard", capacity: 120 },
];

async function scaleSet(
  args: Partial<OpenAiScaleSetArgs>,
  name = "openai",
): Promise<ProgramRun & { set?: OpenAiScaleSet }> {
  let set: OpenAiScaleSet | undefined;
  const run = await runMocked({ config: {} }, () => {
    set = new OpenAiScaleSet(name, {
      resourceGroupName: "rg-test",
      instances: REGIONS_3,
      deployments: MODELS_2,
      tags: { env: "test" },
      ...args,
    });
    return { backends: set.backends };
  });
  return { ...run, set };
}

const subdomain = (account: RecordedResource) => input(account, "properties", "customSubDomainName") as string;

describe("OpenAiScaleSet: 3 regions x 2 models", () => {
  let run: ProgramRun;
  let accounts: RecordedResource[];
  let deployments: RecordedResource[];
  before(async () => {
    run = await scaleSet({});
    accounts = ofType(run.resources, TYPES.account);
    deployments = ofType(run.resources, TYPES.deployment);
  });

  it("registers the component with its type token, and every child under it", () => {
    const [component] = ofType(run.resources, TYPES.scaleSet);
    expect(component.name).to.equal("openai");
    for (const child of run.resources.filter((r) => r !== component)) {
      expect(child.parent, child.name).to.equal(component.urn);
    }
  });

  it("creates one OpenAI account per instance, in its region", () => {
    expect(accounts.map((a) => [a.name, input(a, "location")])).to.deep.equal([
      ["openai-swedencentral", "swedencentral"],
      ["openai-francecentral", "francecentral"],
      ["openai-eastus2", "eastus2"],
    ]);
    for (const account of accounts) {
      expect(input(account, "kind")).to.equal("OpenAI");
      expect(input(account, "sku")).to.deep.equal({ name: "S0" });
      expect(input(account, "resourceGroupName")).to.equal("rg-test");
      expect(input(account, "tags")).to.deep.equal({ env: "test" });
    }
  });

  it("turns off key authentication and states public network access explicitly", () => {
    for (const account of accounts) {
      expect(input(account, "properties", "disableLocalAuth")).to.equal(true);
      expect(input(account, "properties", "publicNetworkAccess")).to.equal("Enabled");
    }
  });

  it("gives each account a unique custom subdomain from the component name, region and a random suffix", () => {
    const suffix = named(run.resources, "openai-suffix").state.result as string;
    expect(suffix).to.match(/^[a-z0-9]{6}$/);
    expect(accounts.map(subdomain)).to.deep.equal([
      `openai-swedencentral-${suffix}`,
      `openai-francecentral-${suffix}`,
      `openai-eastus2-${suffix}`,
    ]);
    for (const account of accounts) {
      expect(input(account, "accountName")).to.equal(subdomain(account));
    }
  });

  it("keeps the suffix stable: a RandomString without keepers, 6 lowercase letters and digits", () => {
    const suffix = named(run.resources, "openai-suffix");
    expect(suffix.type).to.equal(TYPES.randomString);
    expect(suffix.inputs).to.deep.equal({ length: 6, lower: true, numeric: true, special: false, upper: false });
  });

  it("creates every model deployment on every account with SKU, capacity, model and upgrade option", () => {
    expect(deployments).to.have.length(6);
    for (const account of accounts) {
      const own = deployments.filter((d) => input(d, "accountName") === input(account, "accountName"));
      expect(own.map((d) => input(d, "deploymentName"))).to.deep.equal(["gpt-4o", "embeddings"]);
      expect(own.map((d) => input(d, "sku"))).to.deep.equal([
        { name: "GlobalStandard", capacity: 50 },
        { name: "DataZoneStandard", capacity: 120 },
      ]);
      expect(own.map((d) => input(d, "properties"))).to.deep.equal([
        {
          model: { format: "OpenAI", name: "gpt-4o", version: "2024-11-20" },
          versionUpgradeOption: "OnceCurrentVersionExpired",
        },
        {
          model: { format: "OpenAI", name: "text-embedding-3-small", version: "1" },
          versionUpgradeOption: "OnceCurrentVersionExpired",
        },
      ]);
    }
  });

  it("leaves dynamic quota off: no deployment or account asks for it", () => {
    for (const resource of [...accounts, ...deployments]) {
      expect(JSON.stringify(resource.inputs)).to.not.contain("dynamicThrottling");
      expect(input(resource, "properties", "scaleSettings")).to.equal(undefined);
    }
  });

  it("chains the deployments of one account and keeps accounts parallel", () => {
    for (const account of accounts) {
      const [first, second] = deployments.filter((d) => input(d, "accountName") === input(account, "accountName"));
      expect(second.dependencies).to.include(first.urn);
      expect(first.dependencies.filter((urn) => urn.includes("cognitiveservices:Deployment"))).to.deep.equal([]);
      expect(first.dependencies).to.include(account.urn);
    }
    const firsts = deployments.filter((d) => input(d, "deploymentName") === "gpt-4o");
    for (const d of firsts) {
      expect(d.dependencies.some((urn) => firsts.some((other) => other.urn === urn))).to.equal(false);
    }
  });

  it("exports one backend per instance in the shape ApimGateway takes", () => {
    const backends = run.outputs.backends as Record<string, unknown>[];
    expect(backends).to.deep.equal(
      accounts.map((account, i) => ({
        name: ["swedencentral", "francecentral", "eastus2"][i],
        location: ["swedencentral", "francecentral", "eastus2"][i],
        endpoint: `https://${subdomain(account)}.openai.azure.com/`,
        resourceId: account.id,
        priority: [1, 1, 2][i],
        weight: 1,
        deployments: ["gpt-4o", "embeddings"],
        // Standard-style SKUs: 1,000 tokens per minute per unit of capacity.
        tokensPerMinute: { "gpt-4o": 50_000, embeddings: 120_000 },
      })),
    );
    expect(accounts[0].id).to.match(/\/providers\/Microsoft\.CognitiveServices\/accounts\/openai-swedencentral-/);
  });
});

describe("OpenAiScaleSet: stable names", () => {
  it("produces identical logical and Azure names on two runs of the same config", async () => {
    const names = (run: ProgramRun) =>
      run.resources.map((r) => [r.type, r.name, input(r, "accountName"), input(r, "deploymentName"), subdomain(r)]);
    const first = await scaleSet({});
    const second = await scaleSet({});
    expect(names(second)).to.deep.equal(names(first));
    expect(names(first).filter(([type]) => type === TYPES.account)).to.have.length(3);
  });
});

describe("OpenAiScaleSet: 30 instances", () => {
  it("creates 30 accounts with unique subdomains of at most 64 characters and 30 deployments each of both models [heavy]", async () => {
    const instances = Array.from({ length: 30 }, (_, i) => ({
      location: i % 2 ? "swedencentral" : "eastus2",
      name: `instance-with-a-long-name-${String(i).padStart(2, "0")}`,
    }));
    const run = await scaleSet({ instances }, "a-rather-long-component-name");
    const accounts = ofType(run.resources, TYPES.account);
    expect(accounts).to.have.length(30);
    const subdomains = accounts.map(subdomain);
    expect(new Set(subdomains).size).to.equal(30);
    for (const s of subdomains) {
      expect(s.length).to.be.at.most(64);
      expect(s).to.match(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    }
    expect(ofType(run.resources, TYPES.deployment)).to.have.length(60);
    expect((run.outputs.backends as unknown[]).length).to.equal(30);
  });
});

describe("OpenAiScaleSet: instances that host different deployments", () => {
  it("creates a deployment only where the instance hosts it, and lists each account's deployments for the gateway", async () => {
    const run = await scaleSet({
      instances: [
        { location: "swedencentral" },
        { location: "francecentral", deployments: { Embeddings: { enabled: false } } },
        { location: "eastus2", priority: 2, deployments: { "gpt-4o": { enabled: false } } },
      ],
    });
    const byAccount = ofType(run.resources, TYPES.deployment).map(
      (d) => `${String(input(d, "accountName")).split("-")[1]}/${input(d, "deploymentName")}`,
    );
    expect(byAccount).to.have.members([
      "swedencentral/gpt-4o",
      "swedencentral/embeddings",
      "francecentral/gpt-4o",
      "eastus2/embeddings",
    ]);
    expect(byAccount).to.have.length(4);
    const backends = run.outputs.backends as { name: string; deployments: string[] }[];
    expect(backends.map((b) => [b.name, b.deployments])).to.deep.equal([
      ["swedencentral", ["gpt-4o", "embeddings"]],
      ["francecentral", ["gpt-4o"]],
      ["eastus2", ["embeddings"]],
    ]);
  });

  it("chains only the hosted deployments of an account", async () => {
    const run = await scaleSet({
      instances: [
        { location: "swedencentral", deployments: { "gpt-4o": { enabled: false } } },
        { location: "francecentral" },
      ],
    });
    const [sweden] = ofType(run.resources, TYPES.deployment);
    expect(input(sweden, "deploymentName")).to.equal("embeddings");
    // The first deployment of its account: nothing to wait for.
    expect(sweden.dependencies.filter((urn) => urn.includes("cognitiveservices:Deployment"))).to.deep.equal([]);
  });
});

describe("OpenAiScaleSet: options and validation", () => {
  it("allows key authentication only when asked", async () => {
    const run = await scaleSet({ disableLocalAuth: false, publicNetworkAccess: "Disabled" });
    for (const account of ofType(run.resources, TYPES.account)) {
      expect(input(account, "properties", "disableLocalAuth")).to.equal(false);
      expect(input(account, "properties", "publicNetworkAccess")).to.equal("Disabled");
    }
  });

  it("applies a per-instance override (PTU in one region, pay-as-you-go elsewhere)", async () => {
    const run = await scaleSet({
      instances: [
        { location: "swedencentral", deployments: { "gpt-4o": { sku: "GlobalProvisionedManaged", capacity: 15 } } },
        { location: "francecentral", priority: 2 },
      ],
    });
    const gpt4o = ofType(run.resources, TYPES.deployment).filter((d) => input(d, "deploymentName") === "gpt-4o");
    expect(gpt4o.map((d) => input(d, "sku"))).to.deep.equal([
      { name: "GlobalProvisionedManaged", capacity: 15 },
      { name: "GlobalStandard", capacity: 50 },
    ]);
  });

  const badArgs: [string, Partial<OpenAiScaleSetArgs>, string][] = [
    ["a region typo", { instances: [{ location: "westeurop" }] }, "args.instances[0].location"],
    ["no instances", { instances: [] }, "args.instances"],
    [
      "an unknown SKU",
      { deployments: [{ name: "x1", model: "gpt-4o", version: "1", sku: "Premium" }] },
      "args.deployments[0].sku",
    ],
    ["a public network access typo", { publicNetworkAccess: "Off" }, "args.publicNetworkAccess"],
    [
      "a misspelled instance key",
      { instances: [{ location: "eastus", prority: 1 } as OpenAiInstanceArgs] },
      "args.instances[0]",
    ],
  ];
  for (const [what, args, key] of badArgs) {
    it(`rejects ${what} before registering anything, naming ${key}`, async () => {
      const { error, registered } = await attempt(
        () =>
          new OpenAiScaleSet("openai", {
            resourceGroupName: "rg",
            instances: REGIONS_3,
            deployments: MODELS_2,
            ...args,
          }),
      );
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.key)).to.include(key);
      expect((error as Error).message).to.match(/^OpenAiScaleSet "openai": invalid args/);
      expect(registered).to.deep.equal([]);
    });
  }
});

describe("createSequentially", () => {
  it("makes each item depend on the one before it, and the first on nothing", async () => {
    await runMocked({ config: {} }, () => {
      const seen: pulumi.Resource[][] = [];
      const created = createSequentially(["a", "b", "c"], (item, options) => {
        seen.push(options.dependsOn);
        return new pulumi.ComponentResource("test:index:Item", item, {}, {});
      });
      expect(seen[0]).to.deep.equal([]);
      expect(seen[1]).to.deep.equal([created[0]]);
      expect(seen[2]).to.deep.equal([created[1]]);
      return {};
    });
  });
});
