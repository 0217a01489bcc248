// A stack of its own that uses the openai-apim components: two OpenAI regions (Sweden preferred,
// France as spill-over) behind one gateway.
import * as resources from "@pulumi/azure-native/resources";
import { ApimGateway, OpenAiScaleSet } from "openai-apim";

const resourceGroup = new resources.ResourceGroup("ai-gateway", { location: "swedencentral" });

const openAi = new OpenAiScaleSet("chat", {
  resourceGroupName: resourceGroup.name,
  instances: [
    { location: "swedencentral", priority: 1 },
    { location: "francecentral", priority: 2 },
  ],
  deployments: [
    { name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard", capacity: 20 },
  ],
  tags: { team: "search" },
});

const gateway = new ApimGateway("chat-gateway", {
  resourceGroupName: resourceGroup.name,
  location: "swedencentral",
  sku: { name: "BasicV2" },
  publisherEmail: "search-team@contoso.com",
  publisherName: "Search team",
  backends: openAi.backends,
  tags: { team: "search" },
});

export const endpoint = gateway.endpoint;
export const apiKey = gateway.subscriptionKey;
