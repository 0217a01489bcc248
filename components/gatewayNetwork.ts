import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
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

export class GatewayNetwork extends pulumi.ComponentResource {
  /** The created virtual network (undefined with existing subnets). */
  public readonly virtualNetwork?: network.VirtualNetwork;
  /** The gateway subnet's NSG (undefined with existing subnets). */
  public readonly securityGroup?: network.NetworkSecurityGroup;
  /** The created subnets (none with existing subnets). */
  public readonly subnets: network.Subnet[];
  /** The created zone and its links (none with an existing zone). */
  public readonly privateDnsZone?: privatedns.PrivateZone;
  public readonly privateDnsZoneLinks: privatedns.VirtualNetworkLink[];
  /** The gateway's subnet. */
  public readonly gatewaySubnetId: pulumi.Output<string>;
  /** The subnet of the accounts' private endpoints. */
  public readonly privateEndpointSubnetId: pulumi.Output<string>;
  /** The privatelink.openai.azure.com zone the endpoints register in. */
  public readonly privateDnsZoneId: pulumi.Output<string>;
  /** `external` or `internal`. */
  public readonly gatewayAccess: string;

  constructor(name: string, args: GatewayNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const parsed = parseArgs("GatewayNetwork", name, gatewayNetworkArgsSchema(args), args);
    super("openai-apim:index:GatewayNetwork", name, {}, opts);
    const mode = VNET_MODES[parsed.sku.name]!;
    const internal = parsed.gatewayAccess === "internal";
    this.gatewayAccess = parsed.gatewayAccess ?? "external";
    const resolved = resolveNetwork(parsed);
    const common = { resourceGroupName: parsed.resourceGroupName, location: parsed.location };

    this.subnets = [];
    this.privateDnsZoneLinks = [];
    let vnetIds: pulumi.Input<string>[];
    if (resolved.kind === "create") {
      this.virtualNetwork = new network.VirtualNetwork(
        `${name}-vnet`,
        { ...common, addressSpace: { addressPrefixes: [resolved.addressSpace] }, tags: parsed.tags },
        // Subnets are their own resources below. A network PUT without subnets keeps them (network API
        // 2023-09-01 and later: Azure/azure-quickstart-templates#2786), and ignoring the input stops a
        // refresh that reads them back from turning into a diff (pulumi/pulumi-azure-native#611).
        { parent: this, ignoreChanges: ["subnets"] },
      );
      this.securityGroup = new network.NetworkSecurityGroup(
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
          tags: parsed.tags,
        },
        { parent: this },
      );
      const gatewaySubnet = new network.Subnet(
        `${name}-gateway-subnet`,
        {
          resourceGroupName: parsed.resourceGroupName,
          virtualNetworkName: this.virtualNetwork.name,
          subnetName: "apim",
          addressPrefix: resolved.gatewayPrefix,
          networkSecurityGroup: { id: this.securityGroup.id },
          // Integration needs the delegation; an injected gateway's subnet must have none.
          delegations:
            mode === "integration" ? [{ name: "apim-integration", serviceName: INTEGRATION_SUBNET_DELEGATION }] : [],
        },
        { parent: this },
      );
      const endpointSubnet = new network.Subnet(
        `${name}-endpoints-subnet`,
        {
          resourceGroupName: parsed.resourceGroupName,
          virtualNetworkName: this.virtualNetwork.name,
          subnetName: "private-endpoints",
          addressPrefix: resolved.privateEndpointPrefix,
          privateEndpointNetworkPolicies: "Disabled",
        },
        // Azure refuses two subnet writes on one network at once (AnotherOperationInProgress).
        { parent: this, dependsOn: [gatewaySubnet] },
      );
      this.subnets.push(gatewaySubnet, endpointSubnet);
      this.gatewaySubnetId = gatewaySubnet.id;
      this.privateEndpointSubnetId = endpointSubnet.id;
      vnetIds = [this.virtualNetwork.id];
    } else {
      this.gatewaySubnetId = pulumi.output(resolved.gatewaySubnetId);
      this.privateEndpointSubnetId = pulumi.output(resolved.privateEndpointSubnetId);
      vnetIds = [...new Set([resolved.gatewaySubnetId, resolved.privateEndpointSubnetId].map(vnetOfSubnet))];
    }

    if (parsed.privateDnsZoneId) {
      // Central DNS owns the zone and its links.
      this.privateDnsZoneId = pulumi.output(parsed.privateDnsZoneId);
    } else {
      this.privateDnsZone = new privatedns.PrivateZone(
        `${name}-openai-zone`,
        {
          resourceGroupName: parsed.resourceGroupName,
          privateZoneName: OPENAI_PRIVATE_DNS_ZONE,
          location: "global",
          tags: parsed.tags,
        },
        { parent: this },
      );
      vnetIds.forEach((vnetId, i) => {
        this.privateDnsZoneLinks.push(
          new privatedns.VirtualNetworkLink(
            `${name}-openai-zone-link${vnetIds.length > 1 ? `-${i}` : ""}`,
            {
              resourceGroupName: parsed.resourceGroupName,
              privateZoneName: OPENAI_PRIVATE_DNS_ZONE,
              virtualNetworkLinkName: `${name}-link${vnetIds.length > 1 ? `-${i}` : ""}`,
              location: "global",
              virtualNetwork: { id: vnetId },
              registrationEnabled: false,
              tags: parsed.tags,
            },
            { parent: this, dependsOn: [this.privateDnsZone!] },
          ),
        );
      });
      // Whatever registers in the zone also waits for its links: a name only resolves from a linked network.
      this.privateDnsZoneId = pulumi
        .all([this.privateDnsZone.id, ...this.privateDnsZoneLinks.map((link) => link.id)])
        .apply(([id]) => id);
    }

    this.registerOutputs({
      virtualNetwork: this.virtualNetwork,
      subnets: this.subnets,
      privateDnsZone: this.privateDnsZone,
      gatewaySubnetId: this.gatewaySubnetId,
      privateEndpointSubnetId: this.privateEndpointSubnetId,
      privateDnsZoneId: this.privateDnsZoneId,
    });
  }
}
