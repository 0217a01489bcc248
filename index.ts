import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { readStackConfig } from "./components/config";

// Validate everything before the first resource is registered: a typo fails here, not mid-deploy.
const config = readStackConfig();

const resourceGroup = new resources.ResourceGroup("rg", {
  resourceGroupName: config.resourceGroupName ?? `rg-${pulumi.getProject()}-${pulumi.getStack()}`,
  location: config.location,
  tags: config.tags,
});

export const resourceGroupName = resourceGroup.name;
