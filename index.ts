import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { capacityByDeployment } from "./common/capacity";
import { ApimGateway } from "./components/apimGateway";
import { GatewayNetwork } from "./components/gatewayNetwork";
import { OpenAiScaleSet } from "./components/openAiScaleSet";
import { readStackConfig } from "./program/stackConfig";

// Validate everything before the first resource is registered: a typo fails here, not mid-deploy.
const config = readStackConfig();

const resourceGroup = new resources.ResourceGroup("rg", {
  resourceGroupName: config.resourceGroupName ?? `rg-${pulumi.getProject()}-${pulumi.getStack()}`,
  location: config.location,
  tags: config.tags,
});

// Private mode: the gateway sits in a virtual network and the accounts take no public traffic.
const network =
  config.network.mode === "private"
    ? new GatewayNetwork("network", {
        resourceGroupName: resourceGroup.name,
        location: config.location,
        sku: { name: config.apim.sku, capacity: config.apim.capacity },
        gatewayAccess: config.network.gatewayAccess,
        addressSpace: config.network.addressSpace,
        subnets: config.network.subnets,
        privateDnsZoneId: config.network.privateDnsZoneId,
        privateEndpointCount: config.instances.length,
        additionalLocations: config.apim.additionalLocations?.map((l) => l.location),
        tags: config.tags,
        additionalRegions: config.additionalRegions,
      })
    : undefined;

const openAi = new OpenAiScaleSet("openai", {
  resourceGroupName: resourceGroup.name,
  instances: config.instances,
  deployments: config.deployments,
  tags: config.tags,
  additionalRegions: config.additionalRegions,
  additionalModelAvailability: config.additionalModelAvailability,
  publicNetworkAccess: network ? "Disabled" : "Enabled",
});

const gateway = new ApimGateway("gateway", {
  resourceGroupName: resourceGroup.name,
  location: config.location,
  sku: { name: config.apim.sku, capacity: config.apim.capacity },
  zones: config.apim.zones,
  additionalLocations: config.apim.additionalLocations,
  publisherEmail: config.apim.publisherEmail,
  publisherName: config.apim.publisherName,
  backends: openAi.backends,
  circuitBreaker: config.circuitBreaker,
  retry: config.retry,
  apiPath: config.api.path,
  specUrl: config.api.specUrl,
  backendTimeoutSeconds: config.api.backendTimeoutSeconds,
  monitoring: config.monitoring,
  alerts: config.alerts,
  tokenLimit: config.tokenLimit,
  clientAuth: config.clientAuth,
  teams: config.teams,
  network: network && {
    subnetId: network.gatewaySubnetId,
    gatewayAccess: network.gatewayAccess,
    privateEndpoints: { subnetId: network.privateEndpointSubnetId, privateDnsZoneId: network.privateDnsZoneId },
    additionalLocations: network.regions.map((r) => ({
      location: r.location!,
      subnetId: r.gatewaySubnetId,
      privateEndpoints: { subnetId: r.privateEndpointSubnetId, privateDnsZoneId: r.privateDnsZoneId },
    })),
  },
  tags: config.tags,
  additionalRegions: config.additionalRegions,
});

export const resourceGroupName = resourceGroup.name;
/** Base URL of the gateway, `https://<name>.azure-api.net`. */
export const gatewayUrl = gateway.gatewayUrl;
/** Gateway region -> its own URL, for clients that fail over between regions themselves. */
export const regionalGatewayUrls = gateway.regionalGatewayUrls;
/** What a client sets as its Azure endpoint (the SDKs append /openai/... to it). */
export const endpoint = gateway.endpoint;
/** Key of the default subscription (none with teams): send it as the api-key header. */
export const subscriptionKey = gateway.subscriptionKey;
/** With teams: team name -> its subscription key, to hand to the team (secret). */
export const teamSubscriptionKeys = gateway.teamSubscriptionKeys;
/** Log Analytics workspace with APIM and OpenAI logs (KQL examples in the README). */
export const workspaceId = gateway.workspaceId;
/** Application Insights: turn on custom metrics with dimensions once (docs/operations.md). */
export const appInsightsId = gateway.appInsightsId;
export const appInsightsName = gateway.appInsightsName;
/** The operations workbook (Azure portal: Monitor, Workbooks), undefined with monitoring off. */
export const workbookId = gateway.workbook?.id;
export const appInsightsConnectionString = gateway.appInsightsConnectionString;
export const openAiEndpoints = openAi.backends.map((b) => ({
  name: b.name,
  location: b.location,
  endpoint: b.endpoint,
}));
/** Tokens and requests per minute per deployment, summed over instances, and what is left without the largest. */
export const capacity = capacityByDeployment(config.resolvedInstances);
