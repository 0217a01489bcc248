// The gateway alone, in front of two Azure OpenAI accounts this stack did not create: each backend
// is given by its endpoint and resource id. The stack's identity needs permission to create role
// assignments on those accounts.
import * as pulumi from "@pulumi/pulumi";
import { ApimGateway } from "openai-apim";

const config = new pulumi.Config();
const subscription = config.get("accountsSubscriptionId") ?? "00000000-0000-0000-0000-000000000000";
const accountsGroup = config.get("accountsResourceGroup") ?? "rg-shared-openai";
const account = (name: string) =>
  `/subscriptions/${subscription}/resourceGroups/${accountsGroup}/providers/Microsoft.CognitiveServices/accounts/${name}`;

const gateway = new ApimGateway("shared-gateway", {
  resourceGroupName: config.get("resourceGroupName") ?? "rg-shared-gateway",
  location: "westeurope",
  sku: { name: "StandardV2", capacity: 1 },
  publisherEmail: "platform@contoso.com",
  publisherName: "Contoso Platform",
  backends: [
    {
      name: "westeurope",
      location: "westeurope",
      endpoint: "https://contoso-openai-weu.openai.azure.com/",
      resourceId: account("contoso-openai-weu"),
      priority: 1,
      weight: 50,
      // What the account hosts: the gateway gives each deployment its own breaker and pool.
      deployments: ["gpt-4o", "text-embedding-3-small"],
    },
    {
      name: "northeurope",
      location: "northeurope",
      endpoint: "https://contoso-openai-neu.openai.azure.com/",
      resourceId: account("contoso-openai-neu"),
      priority: 1,
      weight: 50,
      deployments: ["gpt-4o"],
    },
  ],
  // The accounts' diagnostic settings belong to their owners.
  monitoring: { openAiDiagnosticSettings: false },
});

export const endpoint = gateway.endpoint;
export const apiKey = gateway.subscriptionKey;
