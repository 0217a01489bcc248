import * as path from "node:path";
import type { PolicyResource } from "@pulumi/policy";
import { expect } from "chai";
import { regionalGatewayUrl } from "../common/apim";
import { shortRegionName } from "../common/regions";
import { isNear, regionalPriorities, routingTable } from "../components/gatewayRouting";
import { runPlan } from "../offline/commands/plan";
import { readScenario } from "../offline/commands/simulate";
import { evaluatePolicy, policyResources } from "../offline/plan/packVerdicts";
import { describeRegions, summarize } from "../offline/plan/summary";
import { findAll, parseXml } from "../offline/plan/xml";
import { runProgram } from "../offline/runtime/program";
import type { ProgramRun } from "../offline/runtime/recorder";
import { readStackFile, readStackFileAt } from "../offline/runtime/stackFile";
import { parseStackConfig } from "../program/stackConfig";
import * as pack from "../policy-pack/policies";
import { parseScenario } from "../simulator/scenario";
import { simulate } from "../simulator/simulate";
import type { GatewayModel } from "../simulator/model";
import { configError, input, named, ofType, planRun, programRun, TYPES } from "./helpers";

/*
 * A gateway that survives a zone or a region: zones, Premium's additional locations, each region's own
 * order of the instances (near first), the regional URLs, the region-loss scenario, and the rule that a
 * production gateway has one or the other.
 */

const ROOT = path.resolve(__dirname, "..");
const MULTI = path.join(__dirname, "fixtures", "Pulumi.multi-region.yaml");

describe("gateway regions: instance order per region (pure)", () => {
  const accounts = [
    { name: "sweden", location: "swedencentral", priority: 1, weight: 1, deployments: ["chat"] },
    { name: "ptu", location: "swedencentral", priority: 0, weight: 1, deployments: ["chat"] },
    { name: "us", location: "eastus2", priority: 1, weight: 1, deployments: ["chat", "embeddings"] },
    {
      name: "japan",
      location: "japaneast",
      priority: 1,
      weight: 1,
      deployments: ["chat"],
      nearGateways: ["japaneast"],
    },
  ];

  it("counts instances in the gateway's part of the world as near, unless nearGateways says otherwise", () => {
    expect(isNear(accounts[0], "germanywestcentral")).to.equal(true);
    expect(isNear(accounts[2], "germanywestcentral")).to.equal(false);
    expect(isNear(accounts[3], "japaneast")).to.equal(true);
    expect(isNear(accounts[3], "koreacentral")).to.equal(false);
    expect(isNear({ location: "somewherenew" }, "somewherenew")).to.equal(false);
  });

  it("puts near instances first and keeps the configured order within near and far, renumbered", () => {
    const table = routingTable(accounts, ["swedencentral", "eastus2", "japaneast"]);
    const order = (region: string, deployment: string) =>
      table.regions
        .find((r) => r.region === region)!
        .pools.find((p) => p.deployment === deployment)!
        .members.map((m) => `${m.account}:${m.priority}`);
    expect(order("swedencentral", "chat")).to.deep.equal(["sweden:2", "ptu:1", "us:3", "japan:3"]);
    expect(order("eastus2", "chat")).to.deep.equal(["sweden:3", "ptu:2", "us:1", "japan:3"]);
    expect(order("japaneast", "chat")).to.deep.equal(["sweden:3", "ptu:2", "us:3", "japan:1"]);
    // A single-member pool is the same everywhere: no regional copy.
    expect(table.pools.map((p) => p.poolId)).to.deep.equal([
      "pool-chat",
      "pool-embeddings",
      "pool-chat-eastus2",
      "pool-chat-japaneast",
    ]);
  });

  it("leaves a single-region gateway's pools as configured", () => {
    const table = routingTable(accounts);
    expect(table.regions).to.deep.equal([]);
    expect(table.pools[0].members.map((m) => m.priority)).to.deep.equal([1, 0, 1, 1]);
    expect(regionalPriorities(table.pools[0].members, () => true).map((m) => m.priority)).to.deep.equal([2, 1, 2, 2]);
  });
});

describe("gateway regions: a Premium gateway in three regions with zones, in a private network", function () {
  this.timeout(60_000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ config: readStackFileAt(MULTI).config, stack: "multi" });
  });

  it("sends the service its zones and additional locations, each in its own subnet", () => {
    const [service] = ofType(run.resources, TYPES.service);
    expect(service.inputs).to.deep.include({ location: "swedencentral", zones: ["1", "2"] });
    expect(input(service, "sku")).to.deep.equal({ name: "Premium", capacity: 2 });
    const additional = input(service, "additionalLocations") as Record<string, unknown>[];
    expect(additional.map((l) => [l.location, l.sku, l.zones])).to.deep.equal([
      ["eastus2", { name: "Premium", capacity: 1 }, undefined],
      ["japaneast", { name: "Premium", capacity: 3 }, ["1", "2", "3"]],
    ]);
    expect(
      additional.map((l) => (l.virtualNetworkConfiguration as { subnetResourceId: string }).subnetResourceId),
    ).to.deep.equal([
      named(run.resources, "network-eastus2-gateway-subnet").id,
      named(run.resources, "network-japaneast-gateway-subnet").id,
    ]);
  });

  it("gives injected locations with zones a Standard zone-redundant public IP with a DNS label", () => {
    const ips = ofType(run.resources, "azure-native:network:PublicIPAddress");
    expect(ips.map((ip) => [ip.name, input(ip, "location"), input(ip, "zones")])).to.deep.equal([
      ["gateway-ip", "swedencentral", ["1", "2"]],
      ["gateway-ip-japaneast", "japaneast", ["1", "2", "3"]],
    ]);
    for (const ip of ips) {
      expect(ip.inputs).to.deep.include({
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
      });
      expect(String(input(ip, "dnsSettings", "domainNameLabel"))).to.match(/^[a-z][a-z0-9-]+$/);
    }
    const [service] = ofType(run.resources, TYPES.service);
    expect(input(service, "publicIpAddressId")).to.equal(ips[0].id);
    expect((input(service, "additionalLocations") as Record<string, unknown>[])[1].publicIpAddressId).to.equal(
      ips[1].id,
    );
  });

  it("gives every region its own network, endpoints to every account and zone, in its own resource group", () => {
    const vnets = ofType(run.resources, "azure-native:network:VirtualNetwork");
    expect(vnets.map((v) => [input(v, "location"), input(v, "addressSpace")])).to.deep.equal([
      ["swedencentral", { addressPrefixes: ["10.60.0.0/23"] }],
      ["eastus2", { addressPrefixes: ["10.60.2.0/23"] }],
      ["japaneast", { addressPrefixes: ["10.60.4.0/23"] }],
    ]);
    const groups = ofType(run.resources, TYPES.resourceGroup).map((g) => input(g, "resourceGroupName"));
    expect(groups).to.deep.equal([
      "rg-openai-apim-multi",
      "rg-openai-apim-multi-eastus2",
      "rg-openai-apim-multi-japaneast",
    ]);
    const endpoints = ofType(run.resources, "azure-native:network:PrivateEndpoint");
    expect(endpoints).to.have.length(9); // 3 accounts x 3 gateway regions
    expect(endpoints.filter((e) => input(e, "location") === "japaneast")).to.have.length(3);
    expect(ofType(run.resources, "azure-native:privatedns:PrivateZone")).to.have.length(3);
  });

  it("chooses each region's pool in the policy from the gateway's region, nearest instances first", () => {
    const policy = parseXml(String(input(ofType(run.resources, TYPES.apiPolicy)[0], "value")));
    const region = findAll(policy, "set-variable").find((v) => v.attributes.name === "gatewayRegion")!;
    expect(region.attributes.value).to.equal('@(context.Deployment.Region.Replace(" ", "").ToLowerInvariant())');
    const pool = findAll(policy, "set-variable").find((v) => v.attributes.name === "pool")!;
    expect(pool.attributes.value).to.equal(
      '@{ switch ((string)context.Variables["gatewayRegion"]) { case "eastus2": return "pool-gpt-4o-mini-eastus2"; case "japaneast": return "pool-gpt-4o-mini-japaneast"; default: return "pool-gpt-4o-mini"; } }',
    );
    const members = findAll(policy, "set-variable").find((v) => v.attributes.name === "members")!;
    expect(members.attributes.value).to.contain('case "japaneast": return "account-japaneast:1:1,');
    const pools = ofType(run.resources, TYPES.backend).filter((b) => input(b, "type") === "Pool");
    const byId = (id: string) => pools.find((p) => input(p, "backendId") === id)!;
    const priorities = (id: string) =>
      (input(byId(id), "pool", "services") as { priority: number }[]).map((s) => s.priority);
    // Members in instance order: swedencentral, eastus2, japaneast.
    expect(priorities("pool-gpt-4o-mini")).to.deep.equal([1, 2, 2]);
    expect(priorities("pool-gpt-4o-mini-eastus2")).to.deep.equal([2, 1, 2]);
    expect(priorities("pool-gpt-4o-mini-japaneast")).to.deep.equal([2, 2, 1]);
  });

  it("exports every region's own gateway URL next to the global one", () => {
    const urls = run.outputs.regionalGatewayUrls as Record<string, string>;
    const service = String(input(ofType(run.resources, TYPES.service)[0], "serviceName"));
    expect(urls).to.deep.equal({
      swedencentral: `https://${service}-swedencentral-01.regional.azure-api.net`,
      eastus2: `https://${service}-eastus2-01.regional.azure-api.net`,
      japaneast: `https://${service}-japaneast-01.regional.azure-api.net`,
    });
    // Keyed as configured, although Azure (and the offline runtime) report locations by display name.
    expect(ofType(run.resources, TYPES.service)[0].state.location).to.equal("Sweden Central");
    expect(shortRegionName("East US 2")).to.equal("eastus2");
    // The offline runtime's placeholder and the library's helper write the same documented pattern.
    expect(regionalGatewayUrl(service, "eastus2")).to.equal(urls.eastus2);
  });

  it("warns in the plan about one region with fewer than two zones, as the pack judges it", () => {
    const line = (zones?: string[]) =>
      describeRegions({ gatewayRegions: [{ location: "swedencentral", units: 2, zones }], routes: [] } as never)[1];
    expect(line(undefined)).to.contain("a zone or region outage stops the gateway");
    expect(line(["1"])).to.contain("fewer than two zones");
    expect(line(["1", "2"])).to.equal("Gateway region: swedencentral, 2 unit(s), zones 1, 2");
  });

  it("prints the order per gateway region in the plan", async () => {
    const text = summarize(await runPlan({ stack: "multi", stackFile: MULTI }));
    expect(text).to.contain("Gateway regions (3;");
    expect(text).to.contain("  eastus2: 1 unit(s), no zones,");
    expect(text).to.contain("    gpt-4o-mini: japaneast > swedencentral, eastus2");
  });
});

describe("gateway regions: validation", () => {
  const base = () => ({
    location: "swedencentral",
    instances: [{ location: "swedencentral" }, { location: "eastus2" }],
    deployments: [{ name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18" }],
    apim: { sku: "Premium", capacity: 2, publisherEmail: "a@contoso.com", publisherName: "Contoso" } as Record<
      string,
      unknown
    >,
  });
  const cases: [string, (raw: ReturnType<typeof base>) => void, string, string][] = [
    [
      "zones on Developer",
      (r) => Object.assign(r.apim, { sku: "Developer", capacity: 1, zones: ["1", "2"] }),
      "openai-apim:apim.zones",
      "Developer has no availability zones",
    ],
    [
      "zones on BasicV2",
      (r) => Object.assign(r.apim, { sku: "BasicV2", zones: ["1", "2"] }),
      "openai-apim:apim.zones",
      "Premium and StandardV2 have",
    ],
    [
      "a zone that does not exist",
      (r) => Object.assign(r.apim, { zones: ["1", "4"] }),
      "openai-apim:apim.zones[1]",
      '"1", "2" or "3"',
    ],
    ["a zone twice", (r) => Object.assign(r.apim, { zones: ["1", "1"] }), "openai-apim:apim.zones", "each zone once"],
    [
      "Premium units not a multiple of the zones",
      (r) => Object.assign(r.apim, { capacity: 2, zones: ["1", "2", "3"] }),
      "openai-apim:apim.capacity",
      "a multiple of the 3 zone(s)",
    ],
    [
      "additional locations on StandardV2",
      (r) => Object.assign(r.apim, { sku: "StandardV2", additionalLocations: [{ location: "eastus2", capacity: 1 }] }),
      "openai-apim:apim.additionalLocations",
      "only Premium",
    ],
    [
      "the primary region as an additional one",
      (r) => Object.assign(r.apim, { additionalLocations: [{ location: "swedencentral", capacity: 1 }] }),
      "openai-apim:apim.additionalLocations[0].location",
      "not already used",
    ],
    [
      "an additional location's units not a multiple of its zones",
      (r) => Object.assign(r.apim, { additionalLocations: [{ location: "eastus2", capacity: 1, zones: ["1", "2"] }] }),
      "openai-apim:apim.additionalLocations[0].capacity",
      "a multiple of the 2 zone(s)",
    ],
    [
      "nearGateways naming a region without gateway units",
      (r) => Object.assign(r.instances[1], { nearGateways: ["westus3"] }),
      "openai-apim:instances[1].nearGateways[0]",
      "a region the gateway runs in: swedencentral",
    ],
    [
      "existing subnets with additional regions",
      (r) => {
        Object.assign(r.apim, { additionalLocations: [{ location: "eastus2", capacity: 1 }] });
        const id = (s: string) =>
          `/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/${s}`;
        Object.assign(r, { network: { mode: "private", subnets: { gateway: id("a"), privateEndpoints: id("b") } } });
      },
      "openai-apim:network.subnets",
      "the stack creates a network in each region",
    ],
  ];
  for (const [what, change, key, allowed] of cases) {
    it(`refuses ${what}, naming ${key}`, () => {
      const raw = base();
      change(raw);
      const err = configError(() => parseStackConfig(raw));
      const problem = err.problems.find((p) => p.key === key);
      expect(problem, err.message).to.not.equal(undefined);
      expect(problem!.allowed).to.contain(allowed);
    });
  }
});

describe("policy pack: gateway-survives-zone-or-region", function () {
  this.timeout(60_000);
  const violations = async (resources: PolicyResource[]) =>
    (await evaluatePolicy(pack.gatewaySurvivesZoneOrRegion, resources)).map((v) => v.message);

  it("fails a production gateway in one region without zones, passes zones or a second region", async () => {
    const prod = readStackFileAt(path.join(ROOT, "Pulumi.prod.yaml.example")).config;
    expect(await violations(policyResources((await programRun(prod, "prod")).resources))).to.deep.equal([]);
    const dev = readStackFile("dev").config;
    expect(await violations(policyResources((await programRun(dev, "dev")).resources))).to.deep.equal([]);
    const single = await violations(policyResources((await programRun(dev, "prod")).resources));
    expect(single).to.have.length(1);
    expect(single[0]).to.contain("runs in one region without availability zones");
    expect(pack.gatewaySurvivesAnOutage({ zones: ["1"] })).to.equal(false);
    expect(pack.gatewaySurvivesAnOutage({ zones: ["1", "2"] })).to.equal(true);
    expect(pack.gatewaySurvivesAnOutage({ additionalLocations: [{ location: "x" }] })).to.equal(true);
  });
});

describe("simulator: gateway regions and zones", function () {
  this.timeout(60_000);
  let model: GatewayModel;
  before(async () => {
    model = (await planRun({ stack: "prod", stackFile: path.join(ROOT, "Pulumi.prod.yaml.example") })).model;
  });

  it("takes the gateway regions, units and zones from the stack", () => {
    expect(model.regions).to.deep.equal([
      { name: "swedencentral", units: 2, zones: ["1", "2"] },
      { name: "germanywestcentral", units: 2, zones: ["1", "2"], priorities: {} },
    ]);
  });

  it("region-loss: the other region's clients are unaffected; the lost region's clients fail over, measured", () => {
    const scenario = parseScenario(readScenario(path.join(ROOT, "scenarios", "region-loss.yaml")));
    const result = simulate(model, scenario);
    const [window] = result.faultWindows;
    expect(window.region).to.equal("swedencentral");
    expect(window.successRateByStream["clients-germany"]).to.equal(1);
    const sweden = window.successRateByStream["clients-sweden"];
    // Lost until the global endpoint reroutes (2 of the 7 minutes), served from Germany afterwards.
    expect(sweden).to.be.within(0.55, 0.9);
    expect(window.latencyMsByStream["clients-sweden"].p95).to.be.greaterThan(0);
    // Without the outage everyone is served.
    const calm = simulate(model, { ...scenario, faults: [] });
    expect(calm.streams["clients-sweden"].successRate).to.equal(1);
    // With instant rerouting, the lost region's clients would barely notice.
    const instant = simulate(model, { ...scenario, parameters: { ...scenario.parameters, regionFailoverSeconds: 0 } });
    expect(instant.faultWindows[0].successRateByStream["clients-sweden"]).to.be.greaterThan(sweden);
  });

  it("a zone outage costs the requests its units take until the load balancer stops sending them there", () => {
    const scenario = parseScenario({
      durationSeconds: 300,
      traffic: [
        {
          region: "swedencentral",
          deployment: "gpt-4o",
          arrivals: { perMinute: 60 },
          request: { promptTokens: 100, maxTokens: 50, completionTokens: 20 },
        },
      ],
      faults: [{ zone: "1", fromSeconds: 60, toSeconds: 240 }],
    });
    const result = simulate(model, scenario);
    const lost = result.statusCounts["503"] ?? 0;
    // One of two units for 10 s at one request a second: about five requests.
    expect(lost).to.be.within(3, 7);
    expect(result.faultWindows[0].zone).to.equal("1");
  });
});
