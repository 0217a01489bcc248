import * as path from "node:path";
import type { PolicyResource } from "@pulumi/policy";
import { expect } from "chai";
import { isProductionStack } from "../common/environment";
import { OpenAiScaleSet } from "../components/openAiScaleSet";
import { evaluatePolicy, policyResources, type PackPolicy } from "../offline/plan/packVerdicts";
import { runMocked } from "../offline/runtime/recorder";
import { readStackFile, readStackFileAt } from "../offline/runtime/stackFile";
import * as pack from "../policy-pack/policies";
import { programRun } from "./helpers";

/*
 * Each policy against the inputs the program registers under mocks (what `pulumi preview` would
 * show the pack): a stack that passes, and a stack or change that trips it.
 */

const ROOT = path.resolve(__dirname, "..");

/** Runs one policy over a set of resources; returns the violation messages. */
async function violations(policy: PackPolicy, resources: readonly PolicyResource[]): Promise<string[]> {
  return (await evaluatePolicy(policy, resources)).map((v) => v.message);
}

async function stack(name: string, config: Record<string, string>): Promise<PolicyResource[]> {
  return policyResources((await programRun(config, name)).resources);
}
const withConfig = (base: Record<string, string>, key: string, value: unknown) => ({
  ...base,
  [`openai-apim:${key}`]: JSON.stringify(value),
});
const mutate = (resources: PolicyResource[], type: string, change: (props: Record<string, unknown>) => void) => {
  const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props) }));
  change(copy.find((r) => r.type === type)!.props);
  return copy;
};

describe("policy pack", function () {
  this.timeout(60_000);
  const dev = readStackFile("dev").config;
  const prod = readStackFileAt(path.join(ROOT, "Pulumi.prod.yaml.example")).config;
  let prodStack: PolicyResource[];
  let devStack: PolicyResource[];
  before(async () => {
    prodStack = await stack("prod", prod);
    devStack = await stack("dev", dev);
  });

  it("lists every rule, mandatory and advisory, without constructing the PolicyPack", () => {
    expect(pack.policies.map((p) => [p.name, p.enforcementLevel])).to.deep.equal([
      ["openai-local-auth-disabled", "mandatory"],
      ["apim-not-consumption", "mandatory"],
      ["pool-members-have-circuit-breaker", "mandatory"],
      ["pool-members-exist", "mandatory"],
      ["pool-within-limits", "mandatory"],
      ["api-https-authenticated", "mandatory"],
      ["no-developer-tier-in-production", "mandatory"],
      ["openai-private-in-production", "mandatory"],
      ["gateway-survives-zone-or-region", "mandatory"],
      ["teams-have-token-limit", "mandatory"],
      ["production-alerts-notify", "mandatory"],
      ["at-least-two-regions", "advisory"],
      ["pool-has-spillover", "advisory"],
      ["pool-has-failover", "advisory"],
      ["pools-cover-priority-tiers", "advisory"],
      ["breaker-counts-throttling", "advisory"],
      ["gateway-retries-pool-members", "advisory"],
      ["entra-callers-restricted", "advisory"],
    ]);
  });

  it("passes the production example on every rule", async () => {
    for (const policy of pack.policies) {
      expect(await violations(policy, prodStack), policy.name).to.deep.equal([]);
    }
  });

  it("openai-local-auth-disabled: fails an account with key authentication", async () => {
    expect(await violations(pack.openAiLocalAuthDisabled, devStack)).to.deep.equal([]);
    const run = await runMocked({ config: {} }, () => {
      new OpenAiScaleSet("keys", {
        resourceGroupName: "rg",
        instances: [{ location: "swedencentral" }],
        deployments: [{ name: "chat", model: "gpt-4o-mini", version: "2024-07-18" }],
        disableLocalAuth: false,
      });
      return {};
    });
    expect(await violations(pack.openAiLocalAuthDisabled, policyResources(run.resources))).to.deep.equal([
      "OpenAI account keys-swedencentral allows API-key authentication; set disableLocalAuth: true (the gateway uses its managed identity).",
    ]);
  });

  it("apim-not-consumption: fails a Consumption APIM", async () => {
    expect(await violations(pack.apimNotConsumption, devStack)).to.deep.equal([]);
    const consumption = mutate(
      devStack,
      "azure-native:apimanagement:ApiManagementService",
      (p) => (p.sku = { name: "Consumption", capacity: 0 }),
    );
    expect(await violations(pack.apimNotConsumption, consumption)).to.have.length(1);
  });

  it("pool-members-have-circuit-breaker: fails when the stack disables the breaker", async () => {
    expect(await violations(pack.poolMembersHaveCircuitBreaker, devStack)).to.deep.equal([]);
    const noBreaker = await stack("dev", withConfig(dev, "circuitBreaker", { enabled: false }));
    const found = await violations(pack.poolMembersHaveCircuitBreaker, noBreaker);
    expect(found).to.deep.equal([
      "Backend gateway-backend-openai-swedencentral-gpt-4o-mini in pool gateway-pool-gpt-4o-mini has 0 circuit-breaker rules; it needs exactly one.",
      "Backend gateway-backend-openai-francecentral-gpt-4o-mini in pool gateway-pool-gpt-4o-mini has 0 circuit-breaker rules; it needs exactly one.",
    ]);
  });

  it("pool-within-limits: fails more than 30 members or a weight above 100", async () => {
    expect(await violations(pack.poolWithinLimits, devStack)).to.deep.equal([]);
    const tooMany = devStack.map((r) =>
      r.props.type === "Pool"
        ? {
            ...r,
            props: {
              ...r.props,
              pool: { services: Array.from({ length: 31 }, (_, i) => ({ id: `b${i}`, priority: 1, weight: 1 })) },
            },
          }
        : r,
    );
    expect(await violations(pack.poolWithinLimits, tooMany)).to.deep.equal([
      "Pool gateway-pool-gpt-4o-mini has 31 members; APIM allows at most 30.",
    ]);
    const heavy = devStack.map((r) =>
      r.props.type === "Pool"
        ? { ...r, props: { ...r.props, pool: { services: [{ id: "a", priority: 1, weight: 150 }] } } }
        : r,
    );
    expect(await violations(pack.poolWithinLimits, heavy)).to.deep.equal([
      "Pool gateway-pool-gpt-4o-mini member 0 has weight 150; allowed: an integer from 0 to 100.",
    ]);
  });

  it("api-https-authenticated: fails plain HTTP, or an API open to callers without a key or a validated token", async () => {
    expect(await violations(pack.apiHttpsAuthenticated, devStack)).to.deep.equal([]);
    const open = mutate(devStack, "azure-native:apimanagement:Api", (p) => {
      p.protocols = ["http", "https"];
      p.subscriptionRequired = false;
    });
    const found = await violations(pack.apiHttpsAuthenticated, open);
    expect(found).to.have.length(2);
    expect(found[1]).to.contain("requires no subscription key and its policy does not validate");
  });

  it("api-https-authenticated: passes Entra ID callers, with or without keys, and only when every keyless call is checked", async () => {
    const entraId = { tenantId: "contoso.onmicrosoft.com" };
    for (const subscriptionKey of [true, false]) {
      const resources = await stack("dev", withConfig(dev, "clientAuth", { entraId, subscriptionKey }));
      const api = resources.find((r) => r.type === "azure-native:apimanagement:Api")!;
      expect(api.props.subscriptionRequired).to.equal(false);
      expect(await violations(pack.apiHttpsAuthenticated, resources)).to.deep.equal([]);
      // The same API whose token check applies under some other condition lets keyless callers through.
      const weakened = mutate(resources, "azure-native:apimanagement:ApiPolicy", (p) => {
        const xml = String(p.value);
        p.value = xml.includes("context.Subscription == null")
          ? xml.replace("@(context.Subscription == null)", '@(context.Request.Method == "GET")')
          : xml
              .replace("<validate-azure-ad-token", '<choose><when condition="@(false)"><validate-azure-ad-token')
              .replace("</validate-azure-ad-token>", "</validate-azure-ad-token></when></choose>");
      });
      expect(await violations(pack.apiHttpsAuthenticated, weakened)).to.have.length(1);
    }
  });

  it("teams-have-token-limit: fails a team without a rate in a stack called prod, not in dev", async () => {
    expect(await violations(pack.teamsHaveTokenLimit, prodStack)).to.deep.equal([]);
    // The dev stack's shape is enough (and quicker): the rule reads only the teams and the stack name.
    const teams = [
      { name: "open", deployments: ["gpt-4o-mini"] },
      { name: "capped", tokensPerMinute: 1000 },
    ];
    const config = withConfig(dev, "teams", teams);
    expect(await violations(pack.teamsHaveTokenLimit, await stack("dev", config))).to.deep.equal([]);
    expect(await violations(pack.teamsHaveTokenLimit, await stack("prod", config))).to.deep.equal([
      "Stack prod looks like production but team open has no token rate limit; set teams[].tokensPerMinute.",
    ]);
    // Teams of Entra ID applications only (keys off) are judged by their rules in the API policy.
    const entra = withConfig(
      withConfig(config, "clientAuth", { subscriptionKey: false, entraId: { tenantId: "contoso.onmicrosoft.com" } }),
      "teams",
      teams.map((t, i) => ({ ...t, entraClientIds: [`1111111${i}-2222-3333-4444-555555555555`] })),
    );
    expect(await violations(pack.teamsHaveTokenLimit, await stack("prod", entra))).to.deep.equal([
      "Stack prod looks like production but team open has no token rate limit; set teams[].tokensPerMinute.",
    ]);
  });

  it("production-alerts-notify: fails alert rules that tell nobody, or none at all, in a stack called prod", async () => {
    expect(await violations(pack.productionAlertsNotify, prodStack)).to.deep.equal([]);
    const silent = withConfig(dev, "alerts", { emails: [] });
    expect(await violations(pack.productionAlertsNotify, await stack("dev", silent))).to.deep.equal([]);
    const found = await violations(pack.productionAlertsNotify, await stack("prod", silent));
    expect(found).to.have.length(5);
    expect(found).to.include(
      "Stack prod looks like production but alert rule gateway-alert-backend-failing tells nobody; set openai-apim:alerts.emails, alerts.webhookUrl or alerts.actionGroupIds.",
    );
    const off = withConfig(dev, "alerts", { enabled: false });
    expect(await violations(pack.productionAlertsNotify, await stack("prod", off))).to.deep.equal([
      "Stack prod looks like production but has no alert rules: nobody hears of a failing account, an exhausted pool or a busy gateway. Keep openai-apim:monitoring and openai-apim:alerts enabled.",
    ]);
  });

  it("entra-callers-restricted (advisory): flags tokens accepted from any application of the tenant", async () => {
    const entraId = { tenantId: "contoso.onmicrosoft.com" };
    const any = await stack("dev", withConfig(dev, "clientAuth", { entraId }));
    expect(await violations(pack.entraCallersRestricted, any)).to.deep.equal([
      "The policy gateway-api-policy accepts a token of any application in tenant contoso.onmicrosoft.com with audience https://cognitiveservices.azure.com; list the callers in clientAuth.entraId.allowedClientIds.",
    ]);
    const listed = { ...entraId, allowedClientIds: ["11111111-2222-3333-4444-555555555555"] };
    const restricted = await stack("dev", withConfig(dev, "clientAuth", { entraId: listed }));
    expect(await violations(pack.entraCallersRestricted, restricted)).to.deep.equal([]);
    expect(
      pack.tokenValidation(String(restricted.find((r) => r.type.endsWith("ApiPolicy"))!.props.value)),
    ).to.deep.equal({
      applies: "without-key",
      tenantId: "contoso.onmicrosoft.com",
      audiences: ["https://cognitiveservices.azure.com"],
      clientIds: ["11111111-2222-3333-4444-555555555555"],
    });
    expect(await violations(pack.entraCallersRestricted, devStack)).to.deep.equal([]);
  });

  it("no-developer-tier-in-production: fails Developer APIM in a stack called prod, not in dev", async () => {
    const developer = withConfig(dev, "apim", { sku: "Developer", publisherEmail: "a@b.co", publisherName: "x" });
    expect(await violations(pack.noDeveloperTierInProduction, await stack("dev", developer))).to.deep.equal([]);
    const found = await violations(pack.noDeveloperTierInProduction, await stack("prod", developer));
    expect(found).to.deep.equal([
      "Stack prod looks like production but API Management gateway-service is on the Developer tier, which has no SLA.",
    ]);
    expect(isProductionStack("eu-prod")).to.equal(true);
    expect(isProductionStack("product-dev")).to.equal(false);
    expect(isProductionStack("preprod")).to.equal(false);
    expect(isProductionStack("prd")).to.equal(true);
  });

  it("at-least-two-regions (advisory): fails when every account is in one region", async () => {
    expect(await violations(pack.atLeastTwoRegions, devStack)).to.deep.equal([]);
    const oneRegion = await stack(
      "dev",
      withConfig(dev, "instances", [
        { location: "swedencentral", name: "sweden-a" },
        { location: "swedencentral", name: "sweden-b" },
      ]),
    );
    expect(await violations(pack.atLeastTwoRegions, oneRegion)).to.deep.equal([
      "All 2 OpenAI accounts are in swedencentral; add a second region.",
    ]);
  });

  it("pool-has-spillover (advisory): fails the dev stack, whose instances share one priority", async () => {
    expect(await violations(pack.poolHasSpillover, devStack)).to.deep.equal([
      "All members of pool gateway-pool-gpt-4o-mini share priority 1: there is no spill-over tier.",
    ]);
  });

  it("pool-members-exist: fails a pool listing a member that is not one of the stack's backends", async () => {
    expect(await violations(pack.poolMembersExist, devStack)).to.deep.equal([]);
    const foreign = devStack.map((r) =>
      r.props.type === "Pool"
        ? {
            ...r,
            props: {
              ...r.props,
              pool: {
                services: [...(r.props.pool as { services: unknown[] }).services, { id: "/elsewhere", priority: 1 }],
              },
            },
          }
        : r,
    );
    expect(await violations(pack.poolMembersExist, foreign)).to.deep.equal([
      "Pool gateway-pool-gpt-4o-mini lists 3 members but refers to 2 backends of this stack; every member must be one of its Single backends.",
    ]);
  });

  it("pool-has-failover and pools-cover-priority-tiers (advisory): flag a deployment on one account or missing a tier", async () => {
    expect(await violations(pack.poolHasFailover, devStack)).to.deep.equal([]);
    expect(await violations(pack.poolsCoverPriorityTiers, prodStack)).to.deep.equal([]);
    const heterogeneous = await stack(
      "dev",
      withConfig(
        withConfig(dev, "instances", [
          { location: "swedencentral" },
          { location: "francecentral", priority: 2, deployments: { reasoning: { enabled: false } } },
        ]),
        "deployments",
        [
          { name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard" },
          { name: "reasoning", model: "o3-mini", version: "2025-01-31", sku: "GlobalStandard" },
        ],
      ),
    );
    expect(await violations(pack.poolHasFailover, heterogeneous)).to.deep.equal([
      "Pool gateway-pool-reasoning has a single member: when that account fails or is throttled, its deployment has no failover.",
    ]);
    expect(await violations(pack.poolsCoverPriorityTiers, heterogeneous)).to.deep.equal([
      "Pool gateway-pool-reasoning has no member at priority 2, which other pools use: its deployment lacks that tier.",
    ]);
  });

  it("reads the stack name from a URN", () => {
    expect(pack.stackOf("urn:pulumi:prod::openai-apim::azure-native:apimanagement:Api::gateway-api")).to.equal("prod");
  });
});
