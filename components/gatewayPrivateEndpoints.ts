import * as network from "@pulumi/azure-native/network";
import type * as pulumi from "@pulumi/pulumi";
import type { ParsedGatewayArgs } from "./apimGatewayArgs";

/*
 * A private endpoint per account in the gateway's network (group `account`, the sub-resource of a
 * Cognitive Services account: private-endpoint-overview.md), even for accounts in other regions (a
 * private endpoint sits in its network's region and may point anywhere), registered in the
 * privatelink.openai.azure.com zone. Created by ApimGateway as its children.
 */

export interface PrivateEndpointsContext {
  name: string;
  parent: pulumi.Resource;
  resourceGroupName: pulumi.Input<string>;
  /** Region of the gateway's network. */
  location?: string;
  subnetId: pulumi.Input<string>;
  privateDnsZoneId: pulumi.Input<string>;
}

export interface AccountPrivateEndpoint {
  endpoint: network.PrivateEndpoint;
  dnsZoneGroup: network.PrivateDnsZoneGroup;
}

export function createPrivateEndpoints(
  ctx: PrivateEndpointsContext,
  backends: ParsedGatewayArgs["backends"],
): AccountPrivateEndpoint[] {
  return backends.map((backend) => {
    const endpoint = new network.PrivateEndpoint(
      `${ctx.name}-pe-${backend.name}`,
      {
        resourceGroupName: ctx.resourceGroupName,
        location: ctx.location,
        subnet: { id: ctx.subnetId },
        privateLinkServiceConnections: [
          { name: `openai-${backend.name}`, privateLinkServiceId: backend.resourceId, groupIds: ["account"] },
        ],
      },
      { parent: ctx.parent },
    );
    const dnsZoneGroup = new network.PrivateDnsZoneGroup(
      `${ctx.name}-pe-${backend.name}-dns`,
      {
        resourceGroupName: ctx.resourceGroupName,
        privateEndpointName: endpoint.name,
        privateDnsZoneGroupName: "default",
        // Each config needs a name: without one ARM answers "Cannot parse the request" (pulumi/pulumi-azure-native#2017).
        privateDnsZoneConfigs: [{ name: "openai", privateDnsZoneId: ctx.privateDnsZoneId }],
      },
      { parent: ctx.parent },
    );
    return { endpoint, dnsZoneGroup };
  });
}
