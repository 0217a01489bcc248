import * as pulumi from "@pulumi/pulumi";
import type * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as network from "@pulumi/azure-native/network";
import { VNET_MODES } from "../common/apim";
import { dnsLabel } from "../common/naming";
import type { ParsedGatewayArgs } from "./apimGatewayArgs";

/*
 * Where the gateway's units run: the primary location's zones, Premium's additional locations (each
 * with its units and zones), and in a private network each location's subnet: injected (External or
 * Internal) on Developer and Premium, integrated on StandardV2 (ARM spells it External plus the
 * delegated subnet; Internal is refused there: integrate-vnet-outbound.md). An injected location with
 * zones gets a Standard zone-redundant public IP with a DNS label, which Microsoft requires when zones
 * and a virtual network are combined (reliability-api-management.md).
 */

export interface PlacementContext {
  name: string;
  parent: pulumi.Resource;
  resourceGroupName: pulumi.Input<string>;
  serviceName: pulumi.Output<string>;
}

type ServiceArgs = Pick<
  apimanagement.ApiManagementServiceArgs,
  "zones" | "additionalLocations" | "virtualNetworkType" | "virtualNetworkConfiguration" | "publicIpAddressId"
>;

export interface GatewayPlacement {
  /** What the ApiManagementService takes. */
  serviceArgs: ServiceArgs;
  /** Public IPs of injected locations with zones, primary first. */
  publicIps: network.PublicIPAddress[];
}

export function gatewayPlacement(ctx: PlacementContext, parsed: ParsedGatewayArgs): GatewayPlacement {
  const net = parsed.network;
  const injected = net !== undefined && VNET_MODES[parsed.sku.name] === "injection";
  const publicIps: network.PublicIPAddress[] = [];
  const publicIp = (
    suffix: string,
    location: string | undefined,
    zones: string[] | undefined,
    label: pulumi.Input<string>,
  ) => {
    if (!injected || !zones?.length) return undefined;
    const ip = new network.PublicIPAddress(
      `${ctx.name}-ip${suffix}`,
      {
        resourceGroupName: ctx.resourceGroupName,
        location,
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
        zones,
        dnsSettings: { domainNameLabel: label },
        tags: parsed.tags,
      },
      { parent: ctx.parent },
    );
    publicIps.push(ip);
    return ip.id;
  };
  const subnetOf = (location: string) =>
    net?.additionalLocations?.find((l) => l.location === location)?.subnetId as pulumi.Input<string> | undefined;
  const serviceArgs: ServiceArgs = {
    zones: parsed.zones,
    ...(net
      ? {
          virtualNetworkType: injected && net.gatewayAccess === "internal" ? "Internal" : "External",
          virtualNetworkConfiguration: { subnetResourceId: net.subnetId as pulumi.Input<string> },
          publicIpAddressId: publicIp("", parsed.location, parsed.zones, ctx.serviceName),
        }
      : {}),
    additionalLocations: parsed.additionalLocations?.map((l, i) => {
      const subnetId = subnetOf(l.location);
      return {
        location: l.location,
        sku: { name: "Premium", capacity: l.capacity },
        zones: l.zones,
        ...(subnetId ? { virtualNetworkConfiguration: { subnetResourceId: subnetId } } : {}),
        publicIpAddressId: publicIp(
          `-${l.location}`,
          l.location,
          l.zones,
          ctx.serviceName.apply((n) => dnsLabel(`${n}-${i + 2}`, 63)),
        ),
      };
    }),
  };
  return { serviceArgs, publicIps };
}
