import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { capacityByDeployment } from "./components/capacity";
import { readStackConfig } from "./components/config";
import { OpenAiScaleSet } from "./components/openAiScaleSet";

// Validate everything before the first resource is registered: a typo fails here, not mid-deploy.
const config = readStackConfig();

const resourceGroup = new resources.ResourceGroup("rg", {
  resourceGroupName: config.resourceGroupName ?? `rg-${pulumi.getProject()}-${pulumi.getStack()}`,
  location: config.location,
  tags: config.tags,
});

const openAi = new OpenAiScaleSet("openai", {
  resourceGroupName: resourceGroup.name,
  instances: config.instances,
  deployments: config.deployments,
  tags: config.tags,
  additionalRegions: config.additionalRegions,
});

export const resourceGroupName = resourceGroup.name;
export const openAiEndpoints = openAi.backends.map((b) => ({
  name: b.name,
  location: b.location,
  endpoint: b.endpoint,
}));
/** Tokens and requests per minute per deployment, summed over instances, and what is left without the largest. */
export const capacity = capacityByDeployment(config.resolvedInstances);
