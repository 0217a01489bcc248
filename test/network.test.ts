import * as path from "node:path";
import type { PolicyResource } from "@pulumi/policy";
import { expect } from "chai";
import { ApimGateway } from "../components/apimGateway";
import { GatewayNetwork } from "../components/gatewayNetwork";
import { ConfigError } from "../common/errors";
import { evaluatePolicy, policyResources } from "../offline/plan/packVerdicts";
import { buildPlan } from "../offline/plan/plan";
import { summarize } from "../offline/plan/summary";
import { runProgram } from "../offline/runtime/program";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";
import { readStackFile, readStackFileAt } from "../offline/runtime/stackFile";
import { parseStackConfig } from "../program/stackConfig";
import * as pack from "../policy-pack/policies";
import { attempt, configError, existingBackend, input, named, ofType, programRun, TYPES } from "./helpers";

/*
 * Private networking: the accounts closed to the internet, the gateway in a virtual network (created
 * by the stack, or existing subnets), a private endpoint per account registered in the private DNS
 * zone, and a deploy graph that does not grow with the number of accounts.
 */

const ROOT = path.resolve(__dirname, "..");
const NET = {
  vnet: "azure-native:network:VirtualNetwork",
  subnet: "azure-native:network:Subnet",
  nsg: "azure-native:network:NetworkSecurityGroup",
  endpoint: "azure-native:network:PrivateEndpoint",
  zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
  zone: "azure-native:privatedns:PrivateZone",
  link: "azure-native:privatedns:VirtualNetworkLink",
};
const SUBNET = (vnet: string, subnet: string) =>
  `/subscriptions/s/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${subnet}`;
const ZONE =
  "/subscriptions/s/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com";

/** Longest chain of dependencies ending at each resource (parents excluded): the deploy graph's depth. */
function depth(resources: readonly RecordedResource[]): number {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, number>();
  const of = (r: RecordedResource): number => {
    if (memo.has(r.urn)) return memo.get(r.urn)!;
    const d =
      1 +
      Math.max(
        0,
        ...r.dependencies
          .map((u) => byUrn.get(u))
          .filter((x) => x?.custom)
          .map((x) => of(x!)),
      );
    memo.set(r.urn, d);
    return d;
  };
  return Math.max(...resources.filter((r) => r.custom).map(of));
}

/** The production example on a StandardV2 gateway in one region: the outbound-integration path. */
const STANDARD_V2 = {
  ...readStackFileAt(path.join(ROOT, "Pulumi.prod.yaml.example")).config,
  "openai-apim:apim": JSON.stringify({
    sku: "StandardV2",
    capacity: 2,
    publisherEmail: "a@contoso.com",
    publisherName: "Contoso",
  }),
};

describe("private network: StandardV2 integration (the production example in one region)", function () {
  this.timeout(60_000);
  let run: ProgramRun;
  before(async () => {
    run = await programRun(STANDARD_V2, "standardv2");
  });

  it("closes every OpenAI account to public traffic", () => {
    for (const account of ofType(run.resources, TYPES.account)) {
      expect(input(account, "properties", "publicNetworkAccess")).to.equal("Disabled");
      expect(input(account, "properties", "networkAcls")).to.deep.equal({
        defaultAction: "Deny",
        bypass: "None",
        ipRules: [],
        virtualNetworkRules: [],
      });
    }
  });

  it("creates the network: a delegated gateway subnet with its NSG, and an endpoint subnet after it", () => {
    const [vnet] = ofType(run.resources, NET.vnet);
    expect(input(vnet, "addressSpace")).to.deep.equal({ addressPrefixes: ["10.60.0.0/23"] });
    expect(input(vnet, "location")).to.equal("swedencentral");
    const gateway = named(run.resources, "network-gateway-subnet");
    const endpoints = named(run.resources, "network-endpoints-subnet");
    expect(gateway.inputs).to.deep.include({
      addressPrefix: "10.60.0.0/24",
      delegations: [{ name: "apim-integration", serviceName: "Microsoft.Web/serverFarms" }],
    });
    const nsg = named(run.resources, "network-gateway-nsg");
    expect(input(gateway, "networkSecurityGroup")).to.deep.equal({ id: nsg.id });
    expect(input(nsg, "securityRules")).to.deep.equal([
      {
        name: "keyvault-out",
        priority: 100,
        direction: "Outbound",
        access: "Allow",
        protocol: "Tcp",
        sourceAddressPrefix: "VirtualNetwork",
        sourcePortRange: "*",
        destinationAddressPrefix: "AzureKeyVault",
        destinationPortRange: "443",
      },
    ]);
    expect(endpoints.inputs).to.deep.include({
      addressPrefix: "10.60.1.0/26",
      privateEndpointNetworkPolicies: "Disabled",
    });
    expect(input(endpoints, "delegations")).to.equal(undefined);
    // Two subnet writes on one network at once are refused: the second waits for the first.
    expect(endpoints.dependencies).to.include(gateway.urn);
  });

  it("integrates the StandardV2 gateway outbound through its subnet (External, the delegated subnet)", () => {
    const [service] = ofType(run.resources, TYPES.service);
    expect(input(service, "virtualNetworkType")).to.equal("External");
    expect(input(service, "virtualNetworkConfiguration")).to.deep.equal({
      subnetResourceId: named(run.resources, "network-gateway-subnet").id,
    });
  });

  it("gives every account a private endpoint (group account) in the gateway's network and region, registered in the zone", () => {
    const accounts = ofType(run.resources, TYPES.account);
    const endpoints = ofType(run.resources, NET.endpoint);
    const subnet = named(run.resources, "network-endpoints-subnet");
    const [zone] = ofType(run.resources, NET.zone);
    expect(endpoints).to.have.length(accounts.length);
    for (const account of accounts) {
      const endpoint = endpoints.find((e) =>
        JSON.stringify(input(e, "privateLinkServiceConnections")).includes(String(account.id)),
      )!;
      // The gateway's region, whatever the account's (germanywestcentral, francecentral too).
      expect(input(endpoint, "location")).to.equal("swedencentral");
      expect(input(endpoint, "subnet", "id")).to.equal(subnet.id);
      expect((input(endpoint, "privateLinkServiceConnections") as { groupIds: string[] }[])[0].groupIds).to.deep.equal([
        "account",
      ]);
      const group = ofType(run.resources, NET.zoneGroup).find((g) => g.dependencies.includes(endpoint.urn))!;
      expect(input(group, "privateDnsZoneConfigs")).to.deep.equal([{ name: "openai", privateDnsZoneId: zone.id }]);
    }
    expect(zone.inputs).to.deep.include({ privateZoneName: "privatelink.openai.azure.com", location: "global" });
    const [link] = ofType(run.resources, NET.link);
    expect(link.inputs).to.deep.include({
      privateZoneName: "privatelink.openai.azure.com",
      location: "global",
      registrationEnabled: false,
      virtualNetwork: { id: ofType(run.resources, NET.vnet)[0].id },
    });
  });

  it("orders the deploy: endpoints after their account and subnet only, DNS before the policy that calls through it", () => {
    const endpoints = ofType(run.resources, NET.endpoint);
    const [service] = ofType(run.resources, TYPES.service);
    for (const endpoint of endpoints) {
      expect(endpoint.dependencies).to.not.include(service.urn);
      for (const other of endpoints) expect(endpoint.dependencies).to.not.include(other.urn);
    }
    const [policy] = ofType(run.resources, TYPES.apiPolicy);
    const [link] = ofType(run.resources, NET.link);
    for (const group of ofType(run.resources, NET.zoneGroup)) {
      expect(policy.dependencies).to.include(group.urn);
      // A name resolves only from a linked network.
      expect(group.dependencies).to.include(link.urn);
    }
  });

  it("shows the network in the plan", async () => {
    const text = summarize(await buildPlan(run.resources, "standardv2"));
    expect(text).to.contain(
      "Network: private; the StandardV2 gateway by outbound VNet integration (the gateway stays public; calls to the accounts go through the network)",
    );
    expect(text).to.contain("subnet apim 10.60.0.0/24, delegated to Microsoft.Web/serverFarms, NSG with 1 rules");
    expect(text).to.contain(
      "Private endpoints in swedencentral (group account): swedencentral, francecentral, germanywestcentral",
    );
    expect(text).to.contain("DNS: privatelink.openai.azure.com (created, 1 network link(s))");
    expect(text).to.contain(
      "Public: the gateway endpoint; OpenAI accounts closed (swedencentral, francecentral, germanywestcentral)",
    );
  });
});

describe("private network: Developer injection (the dev-private stack)", function () {
  this.timeout(60_000);

  it("injects the gateway with the NSG rules Microsoft lists, external or internal", async () => {
    const config = readStackFile("dev-private").config;
    for (const access of ["external", "internal"]) {
      const run = await runProgram({
        config: { ...config, "openai-apim:network": JSON.stringify({ mode: "private", gatewayAccess: access }) },
        stack: "dev-private",
      });
      const [service] = ofType(run.resources, TYPES.service);
      expect(input(service, "virtualNetworkType")).to.equal(access === "internal" ? "Internal" : "External");
      expect(input(named(run.resources, "network-gateway-subnet"), "delegations")).to.deep.equal([]);
      const rules = (
        input(named(run.resources, "network-gateway-nsg"), "securityRules") as Record<string, unknown>[]
      ).map((r) => [
        r.direction,
        r.sourceAddressPrefix,
        r.destinationAddressPrefix,
        r.destinationPortRange ?? r.destinationPortRanges,
      ]);
      expect(rules).to.deep.equal([
        ...(access === "external" ? [["Inbound", "Internet", "VirtualNetwork", "443"]] : []),
        ["Inbound", "ApiManagement", "VirtualNetwork", "3443"],
        ["Inbound", "AzureLoadBalancer", "VirtualNetwork", "6390"],
        ...(access === "external" ? [["Inbound", "AzureTrafficManager", "VirtualNetwork", "443"]] : []),
        ["Outbound", "VirtualNetwork", "Internet", "80"],
        ["Outbound", "VirtualNetwork", "Storage", "443"],
        ["Outbound", "VirtualNetwork", "Sql", "1433"],
        ["Outbound", "VirtualNetwork", "AzureKeyVault", "443"],
        ["Outbound", "VirtualNetwork", "AzureMonitor", ["1886", "443"]],
      ]);
    }
  });

  it("keeps the deploy graph's depth when the number of accounts grows", async () => {
    const config = readStackFile("dev-private").config;
    const withInstances = (locations: string[]) =>
      runProgram({
        config: { ...config, "openai-apim:instances": JSON.stringify(locations.map((location) => ({ location }))) },
        stack: "dev-private",
      });
    const two = await withInstances(["swedencentral", "francecentral"]);
    const five = await withInstances(["swedencentral", "francecentral", "germanywestcentral", "eastus2", "westus3"]);
    expect(ofType(five.resources, NET.endpoint)).to.have.length(5);
    expect(depth(five.resources)).to.equal(depth(two.resources));
  });
});

describe("private network: existing subnets and DNS zone (hub and spoke)", () => {
  const program = (network: Record<string, unknown>) =>
    runMocked({ config: {} }, () => {
      const net = new GatewayNetwork("hub", {
        resourceGroupName: "rg",
        location: "swedencentral",
        sku: { name: "StandardV2" },
        ...network,
      });
      new ApimGateway("gw", {
        resourceGroupName: "rg",
        location: "swedencentral",
        sku: { name: "StandardV2" },
        publisherEmail: "a@contoso.com",
        publisherName: "Contoso",
        backends: [existingBackend("sweden", "swedencentral"), existingBackend("east", "eastus2")],
        network: {
          subnetId: net.gatewaySubnetId,
          privateEndpoints: { subnetId: net.privateEndpointSubnetId, privateDnsZoneId: net.privateDnsZoneId },
        },
      });
      return {};
    });

  it("creates nothing in the network the user names, and registers the endpoints in the user's zone", async () => {
    const run = await program({
      subnets: { gateway: SUBNET("spoke", "apim"), privateEndpoints: SUBNET("spoke", "endpoints") },
      privateDnsZoneId: ZONE,
    });
    for (const type of [NET.vnet, NET.subnet, NET.nsg, NET.zone, NET.link])
      expect(ofType(run.resources, type), type).to.deep.equal([]);
    expect(input(ofType(run.resources, TYPES.service)[0], "virtualNetworkConfiguration")).to.deep.equal({
      subnetResourceId: SUBNET("spoke", "apim"),
    });
    for (const endpoint of ofType(run.resources, NET.endpoint)) {
      expect(input(endpoint, "subnet", "id")).to.equal(SUBNET("spoke", "endpoints"));
    }
    for (const group of ofType(run.resources, NET.zoneGroup)) {
      expect(input(group, "privateDnsZoneConfigs")).to.deep.equal([{ name: "openai", privateDnsZoneId: ZONE }]);
    }
  });

  it("without a zone, creates one and links it to every network the subnets are in", async () => {
    const run = await program({
      subnets: { gateway: SUBNET("spoke", "apim"), privateEndpoints: SUBNET("hub", "endpoints") },
    });
    expect(ofType(run.resources, NET.zone)).to.have.length(1);
    expect(ofType(run.resources, NET.link).map((l) => input(l, "virtualNetwork"))).to.deep.equal([
      { id: SUBNET("spoke", "apim").replace(/\/subnets\/.*$/, "") },
      { id: SUBNET("hub", "endpoints").replace(/\/subnets\/.*$/, "") },
    ]);
  });
});

describe("private network: validation", () => {
  const base = () => ({
    location: "swedencentral",
    instances: [{ location: "swedencentral" }, { location: "eastus2" }],
    deployments: [{ name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18" }],
    apim: { sku: "StandardV2", publisherEmail: "a@contoso.com", publisherName: "Contoso" },
  });
  const cases: [string, Record<string, unknown>, Record<string, unknown>, string, string][] = [
    [
      "a tier that cannot reach a network",
      { mode: "private" },
      { sku: "BasicV2" },
      "openai-apim:network",
      "BasicV2 cannot reach a virtual network",
    ],
    [
      "classic Standard",
      { mode: "private" },
      { sku: "Standard" },
      "openai-apim:network",
      "Standard cannot reach a virtual network",
    ],
    [
      "an internal StandardV2 gateway",
      { mode: "private", gatewayAccess: "internal" },
      {},
      "openai-apim:network.gatewayAccess",
      "integrates outbound only",
    ],
    [
      "overlapping subnets",
      { mode: "private", subnets: { gateway: "10.60.0.0/24", privateEndpoints: "10.60.0.128/26" } },
      {},
      "openai-apim:network.subnets.privateEndpoints",
      "does not overlap",
    ],
    [
      "a subnet outside the address space",
      { mode: "private", addressSpace: "10.60.0.0/23", subnets: { privateEndpoints: "10.61.0.0/26" } },
      {},
      "openai-apim:network.subnets.privateEndpoints",
      "inside the address space 10.60.0.0/23",
    ],
    [
      "an integration subnet below /27",
      { mode: "private", subnets: { gateway: "10.60.0.0/28" } },
      {},
      "openai-apim:network.subnets.gateway",
      "/27 or larger",
    ],
    [
      "an injection subnet too small for the units",
      { mode: "private", subnets: { gateway: "10.60.0.0/29" } },
      { sku: "Premium", capacity: 3 },
      "openai-apim:network.subnets.gateway",
      "at least 6 usable addresses",
    ],
    [
      "an endpoint subnet too small for the accounts",
      { mode: "private", subnets: { privateEndpoints: "10.60.1.0/30" } },
      {},
      "openai-apim:network.subnets.privateEndpoints",
      "one per account",
    ],
    [
      "a CIDR that does not start its block",
      { mode: "private", addressSpace: "10.60.0.7/23" },
      {},
      "openai-apim:network.addressSpace",
      "must start its block",
    ],
    [
      "one created and one existing subnet",
      { mode: "private", subnets: { gateway: SUBNET("v", "a"), privateEndpoints: "10.60.1.0/26" } },
      {},
      "openai-apim:network.subnets",
      "both subnets",
    ],
    [
      "an address space with existing subnets",
      {
        mode: "private",
        addressSpace: "10.0.0.0/16",
        subnets: { gateway: SUBNET("v", "a"), privateEndpoints: SUBNET("v", "b") },
      },
      {},
      "openai-apim:network.addressSpace",
      "nothing with existing subnets",
    ],
    [
      "an address space whose next region's block leaves the private range",
      { mode: "private", addressSpace: "192.168.0.0/16" },
      { sku: "Premium", capacity: 1, additionalLocations: [{ location: "germanywestcentral", capacity: 1 }] },
      "openai-apim:network.addressSpace",
      "stay inside 192.168.0.0/16 (the last would be 192.169.0.0/16)",
    ],
    [
      "a DNS zone id of another zone",
      { mode: "private", privateDnsZoneId: ZONE.replace("openai", "blob") },
      {},
      "openai-apim:network.privateDnsZoneId",
      "privatelink.openai.azure.com",
    ],
    [
      "network settings with mode public",
      { gatewayAccess: "internal" },
      {},
      "openai-apim:network.gatewayAccess",
      "nothing with mode: public",
    ],
  ];
  for (const [what, network, apim, key, allowed] of cases) {
    it(`refuses ${what}, naming ${key}`, () => {
      const raw = { ...base(), network };
      raw.apim = { ...raw.apim, ...apim } as typeof raw.apim;
      const err = configError(() => parseStackConfig(raw));
      const problem = err.problems.find((p) => p.key === key);
      expect(problem, err.message).to.not.equal(undefined);
      expect(problem!.allowed).to.contain(allowed);
    });
  }

  it("accepts the defaults and existing subnets", () => {
    expect(parseStackConfig({ ...base(), network: { mode: "private" } }).network.mode).to.equal("private");
    const existing = {
      mode: "private",
      subnets: { gateway: SUBNET("v", "a"), privateEndpoints: SUBNET("v", "b") },
      privateDnsZoneId: ZONE,
    };
    expect(parseStackConfig({ ...base(), network: existing }).network.subnets).to.deep.equal(existing.subnets);
  });

  it("checks GatewayNetwork's own args as the stack config is checked, additional regions included", async () => {
    const { error, registered } = await attempt(
      () =>
        new GatewayNetwork("net", {
          resourceGroupName: "rg",
          location: "swedencentral",
          sku: { name: "Premium" },
          addressSpace: "192.168.0.0/16",
          additionalLocations: ["germanywestcentral"],
        }),
    );
    expect(registered).to.deep.equal([]);
    const problem = (error as ConfigError).problems.find((p) => p.key === "args.addressSpace");
    expect(problem?.allowed).to.contain("stay inside 192.168.0.0/16");
  });

  it("refuses a network on a gateway whose tier cannot use one, before registering anything", async () => {
    const { error, registered } = await attempt(
      () =>
        new ApimGateway("gw", {
          resourceGroupName: "rg",
          sku: { name: "BasicV2" },
          publisherEmail: "a@contoso.com",
          publisherName: "Contoso",
          backends: [existingBackend("sweden", "swedencentral")],
          network: { subnetId: SUBNET("v", "a") },
        }),
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.key)).to.deep.equal(["args.network"]);
    expect(registered).to.deep.equal([]);
  });
});

describe("policy pack: openai-private-in-production", function () {
  this.timeout(60_000);
  const violations = async (resources: PolicyResource[]) =>
    (await evaluatePolicy(pack.openAiPrivateInProduction, resources)).map((v) => v.message);

  it("fails public OpenAI accounts in a stack called prod, not in dev", async () => {
    const dev = readStackFile("dev").config;
    expect(await violations(policyResources((await programRun(dev, "dev")).resources))).to.deep.equal([]);
    const publicProd = await violations(policyResources((await programRun(dev, "prod")).resources));
    expect(publicProd).to.have.length(2);
    expect(publicProd[0]).to.contain("accepts public network traffic (publicNetworkAccess Enabled)");
    const prod = readStackFileAt(path.join(ROOT, "Pulumi.prod.yaml.example")).config;
    const privateProd = policyResources((await programRun(prod, "prod")).resources);
    expect(await violations(privateProd)).to.deep.equal([]);
    // An account of someone else's program that leaves the setting out is public too: Azure's default.
    const unset = privateProd.map((r) =>
      r.type === "azure-native:cognitiveservices:Account"
        ? { ...r, props: { ...r.props, properties: { customSubDomainName: "x" } } }
        : r,
    );
    expect(await violations(unset)).to.have.length.above(0);
    expect((await violations(unset))[0]).to.contain("publicNetworkAccess not set, so Enabled");
  });
});
