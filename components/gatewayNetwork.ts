import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import * as resources from "@pulumi/azure-native/resources";
import { parseCidr, shiftedCidr, sizeOf } from "../common/cidr";
import { INTEGRATION_SUBNET_DELEGATION, VNET_MODES } from "../common/apim";
import { parseArgs } from "../common/validation";
import {
  gatewayNetworkArgsSchema,
  OPENAI_PRIVATE_DNS_ZONE,
  resolveNetwork,
  vnetOfSubnet,
  type GatewayNetworkArgs,
} from "./gatewayNetworkArgs";

/*
 * The network a private gateway needs: a virtual network with the gateway's subnet (delegated and
 * secured as its tier requires) and a subnet for the accounts' private endpoints, or existing subnets
 * by id; and the private DNS zone privatelink.openai.azure.com linked to those networks, or an
 * existing zone by id. ApimGateway puts the gateway and the endpoints into it.
 */

type Rule = { name: string; direction: "Inbound" | "Outbound"; from: string; to: string; ports: string[] };

/**
 * NSG rules of an injected gateway's subnet, as virtual-network-reference.md lists them for stv2
 * (external mode adds client traffic and Traffic Manager); an integrated v2 gateway's subnet needs
 * only outbound Key Vault (integrate-vnet-outbound.md): NSGs do not filter its inbound traffic.
 */
export function gatewayNsgRules(mode: "injection" | "integration", internal: boolean): Rule[] {
  if (mode === "integration") {
    return [
      { name: "keyvault-out", direction: "Outbound", from: "VirtualNetwork", to: "AzureKeyVault", ports: ["443"] },
    ];
  }
  return [
    ...(internal
      ? []
      : [
          { name: "clients-in", direction: "Inbound" as const, from: "Internet", to: "VirtualNetwork", ports: ["443"] },
        ]),
    { name: "management-in", direction: "Inbound", from: "ApiManagement", to: "VirtualNetwork", ports: ["3443"] },
    { name: "loadbalancer-in", direction: "Inbound", from: "AzureLoadBalancer", to: "VirtualNetwork", ports: ["6390"] },
    ...(internal
      ? []
      : [
          {
            name: "trafficmanager-in",
            direction: "Inbound" as const,
            from: "AzureTrafficManager",
            to: "VirtualNetwork",
            ports: ["443"],
          },
        ]),
    { name: "certificates-out", direction: "Outbound", from: "VirtualNetwork", to: "Internet", ports: ["80"] },
    { name: "storage-out", direction: "Outbound", from: "VirtualNetwork", to: "Storage", ports: ["443"] },
    { name: "sql-out", direction: "Outbound", from: "VirtualNetwork", to: "Sql", ports: ["1433"] },
    { name: "keyvault-out", direction: "Outbound", from: "VirtualNetwork", to: "AzureKeyVault", ports: ["443"] },
    { name: "monitor-out", direction: "Outbound", from: "VirtualNetwork", to: "AzureMonitor", ports: ["1886", "443"] },
  ];
}

/** What the gateway needs from one region's network. */
export interface RegionNetwork {
  /** Region of the network (undefined: the primary region, when its location is the provider default). */
  location?: string;
  gatewaySubnetId: pulumi.Output<string>;
  privateEndpointSubnetId: pulumi.Output<string>;
  privateDnsZoneId: pulumi.Output<string>;
}

/** `10.60.0.0/24` moved by `by` addresses: the same layout in the next region's block. */
const shifted = (cidr: string, by: number): string => shiftedCidr(parseCidr(cidr)!, by).text;

export class GatewayNetwork extends pulumi.ComponentResource {
  /** The created virtual networks, the primary region's first (none with existing subnets). */
  public readonly virtualNetworks: network.VirtualNetwork[];
  /** The gateway subnets' NSGs, in the same order. */
  public readonly securityGroups: network.NetworkSecurityGroup[];
  /** The created subnets (none with existing subnets). */
  public readonly subnets: network.Subnet[];
  /** The created zones (one per region; none with an existing zone) and their links. */
  public readonly privateDnsZones: privatedns.PrivateZone[];
  public readonly privateDnsZoneLinks: privatedns.VirtualNetworkLink[];
  /** A resource group per additional region, for that region's network and zone. */
  public readonly resourceGroups: resources.ResourceGroup[];
  /** The gateway's subnet in the primary region. */
  public readonly gatewaySubnetId: pulumi.Output<string>;
  /** The subnet of the accounts' private endpoints in the primary region. */
  public readonly privateEndpointSubnetId: pulumi.Output<string>;
  /** The privatelink.openai.azure.com zone the primary region's endpoints register in. */
  public readonly privateDnsZoneId: pulumi.Output<string>;
  /** The same for each additional gateway region, in `additionalLocations` order. */
  public readonly regions: RegionNetwork[];
  /** `external` or `internal`. */
  public readonly gatewayAccess: string;

  constructor(name: string, args: GatewayNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const parsed = parseArgs("GatewayNetwork", name, gatewayNetworkArgsSchema(args), args);
    super("openai-apim:index:GatewayNetwork", name, {}, opts);
    const mode = VNET_MODES[parsed.sku.name]!;
    const internal = parsed.gatewayAccess === "internal";
    this.gatewayAccess = parsed.gatewayAccess ?? "external";
    const resolved = resolveNetwork(parsed);
    this.virtualNetworks = [];
    this.securityGroups = [];
    this.subnets = [];
    this.privateDnsZones = [];
    this.privateDnsZoneLinks = [];
    this.resourceGroups = [];

    if (resolved.kind === "existing") {
      this.gatewaySubnetId = pulumi.output(resolved.gatewaySubnetId);
      this.privateEndpointSubnetId = pulumi.output(resolved.privateEndpointSubnetId);
      const vnetIds = [...new Set([resolved.gatewaySubnetId, resolved.privateEndpointSubnetId].map(vnetOfSubnet))];
      // Central DNS owns the zone and its links; otherwise one zone, linked to both networks.
      this.privateDnsZoneId = parsed.privateDnsZoneId
        ? pulumi.output(parsed.privateDnsZoneId)
        : this.zone(name, parsed.resourceGroupName, vnetIds, parsed.tags);
      this.regions = [];
    } else {
      const primary = this.network(
        name,
        parsed.resourceGroupName,
        parsed.location,
        resolved,
        mode,
        internal,
        parsed.tags,
      );
      this.gatewaySubnetId = primary.gatewaySubnetId;
      this.privateEndpointSubnetId = primary.privateEndpointSubnetId;
      this.privateDnsZoneId = parsed.privateDnsZoneId
        ? pulumi.output(parsed.privateDnsZoneId)
        : this.zone(name, parsed.resourceGroupName, [primary.vnetId], parsed.tags);
      // Every additional gateway region gets a network of its own in the next block of the same size,
      // with its own endpoints and zone (in its own resource group: a zone's name is unique per group),
      // so a region keeps reaching every account when another region is down.
      const block = sizeOf(parseCidr(resolved.addressSpace)!);
      this.regions = (parsed.additionalLocations ?? []).map((location, i) => {
        const regional = `${name}-${location}`;
        const group = new resources.ResourceGroup(
          `${regional}-rg`,
          {
            resourceGroupName: pulumi.interpolate`${parsed.resourceGroupName}-${location}`,
            location,
            tags: parsed.tags,
          },
          { parent: this },
        );
        this.resourceGroups.push(group);
        const by = (i + 1) * block;
        const net = this.network(
          regional,
          group.name,
          location,
          {
            kind: "create",
            addressSpace: shifted(resolved.addressSpace, by),
            gatewayPrefix: shifted(resolved.gatewayPrefix, by),
            privateEndpointPrefix: shifted(resolved.privateEndpointPrefix, by),
          },
          mode,
          internal,
          parsed.tags,
        );
        return {
          location,
          gatewaySubnetId: net.gatewaySubnetId,
          privateEndpointSubnetId: net.privateEndpointSubnetId,
          privateDnsZoneId: this.zone(regional, group.name, [net.vnetId], parsed.tags),
        };
      });
    }

    this.registerOutputs({
      virtualNetworks: this.virtualNetworks,
      subnets: this.subnets,
      privateDnsZones: this.privateDnsZones,
      gatewaySubnetId: this.gatewaySubnetId,
      privateEndpointSubnetId: this.privateEndpointSubnetId,
      privateDnsZoneId: this.privateDnsZoneId,
    });
  }

  /** One region's network: the gateway subnet with its NSG (and delegation), then the endpoint subnet. */
  private network(
    name: string,
    resourceGroupName: pulumi.Input<string>,
    location: string | undefined,
    layout: Extract<ReturnType<typeof resolveNetwork>, { kind: "create" }>,
    mode: "injection" | "integration",
    internal: boolean,
    tags: GatewayNetworkArgs["tags"],
  ) {
    const common = { resourceGroupName, location };
    const vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      { ...common, addressSpace: { addressPrefixes: [layout.addressSpace] }, tags },
      // Subnets are their own resources below. A network PUT without subnets keeps them (network API
      // 2023-09-01 and later: Azure/azure-quickstart-templates#2786), and ignoring the input stops a
      // refresh that reads them back from turning into a diff (pulumi/pulumi-azure-native#611).
      { parent: this, ignoreChanges: ["subnets"] },
    );
    const nsg = new network.NetworkSecurityGroup(
      `${name}-gateway-nsg`,
      {
        ...common,
        securityRules: gatewayNsgRules(mode, internal).map((rule, i) => ({
          name: rule.name,
          priority: 100 + 10 * i,
          direction: rule.direction,
          access: "Allow",
          protocol: "Tcp",
          sourceAddressPrefix: rule.from,
          sourcePortRange: "*",
          destinationAddressPrefix: rule.to,
          ...(rule.ports.length === 1
            ? { destinationPortRange: rule.ports[0] }
            : { destinationPortRanges: rule.ports }),
        })),
        tags,
      },
      { parent: this },
    );
    const subnet = (
      suffix: string,
      args: Omit<network.SubnetArgs, "resourceGroupName" | "virtualNetworkName">,
      after?: network.Subnet,
    ) =>
      new network.Subnet(
        `${name}-${suffix}-subnet`,
        { resourceGroupName, virtualNetworkName: vnet.name, ...args },
        // Azure refuses two subnet writes on one network at once (AnotherOperationInProgress).
        { parent: this, dependsOn: after ? [after] : [] },
      );
    const gateway = subnet("gateway", {
      subnetName: "apim",
      addressPrefix: layout.gatewayPrefix,
      networkSecurityGroup: { id: nsg.id },
      // Integration needs the delegation; an injected gateway's subnet must have none.
      delegations:
        mode === "integration" ? [{ name: "apim-integration", serviceName: INTEGRATION_SUBNET_DELEGATION }] : [],
    });
    const endpoints = subnet(
      "endpoints",
      {
        subnetName: "private-endpoints",
        addressPrefix: layout.privateEndpointPrefix,
        privateEndpointNetworkPolicies: "Disabled",
      },
      gateway,
    );
    this.virtualNetworks.push(vnet);
    this.securityGroups.push(nsg);
    this.subnets.push(gateway, endpoints);
    return { vnetId: vnet.id, gatewaySubnetId: gateway.id, privateEndpointSubnetId: endpoints.id };
  }

  /** The privatelink.openai.azure.com zone, linked to these networks; its id waits for the links. */
  private zone(
    name: string,
    resourceGroupName: pulumi.Input<string>,
    vnetIds: pulumi.Input<string>[],
    tags: GatewayNetworkArgs["tags"],
  ): pulumi.Output<string> {
    const zone = new privatedns.PrivateZone(
      `${name}-openai-zone`,
      { resourceGroupName, privateZoneName: OPENAI_PRIVATE_DNS_ZONE, location: "global", tags },
      { parent: this },
    );
    const links = vnetIds.map(
      (vnetId, i) =>
        new privatedns.VirtualNetworkLink(
          `${name}-openai-zone-link${vnetIds.length > 1 ? `-${i}` : ""}`,
          {
            resourceGroupName,
            privateZoneName: OPENAI_PRIVATE_DNS_ZONE,
            virtualNetworkLinkName: `${name}-link${vnetIds.length > 1 ? `-${i}` : ""}`,
            location: "global",
            virtualNetwork: { id: vnetId },
            registrationEnabled: false,
            tags,
          },
          { parent: this, dependsOn: [zone] },
        ),
    );
    this.privateDnsZones.push(zone);
    this.privateDnsZoneLinks.push(...links);
    // Whatever registers in the zone also waits for its links: a name only resolves from a linked network.
    return pulumi.all([zone.id, ...links.map((link) => link.id)]).apply(([id]) => id);
  }
}
