import * as crypto from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { unwrapSecrets } from "./wireFormat";

// Azure's documented pattern for regional gateways, as common/apim.ts regionalGatewayUrl() writes it.
// Repeated on purpose: the package test copies this folder next to an example stack that has only the
// published package, so the runtime imports nothing of the repository outside it (program.ts and
// recorder.ts neither); test/regions.test.ts keeps the two equal.
const regionalGatewayUrl = (service: string, region: string) =>
  `https://${service}-${region}-01.regional.azure-api.net`;

/**
 * A display-style name for a region ("swedencentral" -> "Swedencentral"-like words with spaces), as
 * API Management reports its locations: code that reads them back must not expect the name it sent.
 */
const displayLocation = (region: string) =>
  region
    .replace(/(north|south|east|west|central|\d+)/g, " $1")
    .trim()
    .replace(/\s+/g, " ")
    .replace(/\b\w/g, (c) => c.toUpperCase());

/*
 * What the mock runtime answers in Azure's place: ids, endpoints, keys and principal ids as
 * deterministic placeholders derived from resource names, so two runs of the same config produce
 * identical records. Only values Azure computes live here; everything the program sends is recorded
 * as sent (recorder.ts).
 */

/** Subscription id every placeholder ARM id uses; obviously not a real one. */
export const PLACEHOLDER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000";
export const PLACEHOLDER_TENANT_ID = "11111111-1111-1111-1111-111111111111";

/** Where `newResource` builds an ARM id from: provider path after the resource group, input names in braces. */
const ARM_PATHS: Record<string, string> = {
  "azure-native:resources:ResourceGroup": "",
  "azure-native:cognitiveservices:Account": "/providers/Microsoft.CognitiveServices/accounts/{accountName}",
  "azure-native:cognitiveservices:Deployment":
    "/providers/Microsoft.CognitiveServices/accounts/{accountName}/deployments/{deploymentName}",
  "azure-native:apimanagement:ApiManagementService": "/providers/Microsoft.ApiManagement/service/{serviceName}",
  "azure-native:apimanagement:Backend": "/providers/Microsoft.ApiManagement/service/{serviceName}/backends/{backendId}",
  "azure-native:apimanagement:Api": "/providers/Microsoft.ApiManagement/service/{serviceName}/apis/{apiId}",
  "azure-native:apimanagement:ApiPolicy":
    "/providers/Microsoft.ApiManagement/service/{serviceName}/apis/{apiId}/policies/policy",
  "azure-native:apimanagement:Product": "/providers/Microsoft.ApiManagement/service/{serviceName}/products/{productId}",
  "azure-native:apimanagement:ProductApi":
    "/providers/Microsoft.ApiManagement/service/{serviceName}/products/{productId}/apis/{apiId}",
  "azure-native:apimanagement:Subscription":
    "/providers/Microsoft.ApiManagement/service/{serviceName}/subscriptions/{sid}",
  "azure-native:apimanagement:Logger": "/providers/Microsoft.ApiManagement/service/{serviceName}/loggers/{loggerId}",
  "azure-native:apimanagement:Diagnostic":
    "/providers/Microsoft.ApiManagement/service/{serviceName}/diagnostics/{diagnosticId}",
  "azure-native:apimanagement:ApiDiagnostic":
    "/providers/Microsoft.ApiManagement/service/{serviceName}/apis/{apiId}/diagnostics/{diagnosticId}",
  "azure-native:operationalinsights:Workspace": "/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
  "azure-native:applicationinsights:Component": "/providers/Microsoft.Insights/components/{resourceName}",
};

/** The input holding a resource's Azure name; without it Azure-native would auto-name from the logical name. */
const NAME_INPUTS: Record<string, string> = {
  "azure-native:resources:ResourceGroup": "resourceGroupName",
  "azure-native:cognitiveservices:Account": "accountName",
  "azure-native:cognitiveservices:Deployment": "deploymentName",
  "azure-native:apimanagement:ApiManagementService": "serviceName",
  "azure-native:apimanagement:Backend": "backendId",
  "azure-native:apimanagement:Api": "apiId",
  "azure-native:apimanagement:ApiPolicy": "policyId",
  "azure-native:apimanagement:Product": "productId",
  "azure-native:apimanagement:ProductApi": "apiId",
  "azure-native:apimanagement:Subscription": "sid",
  "azure-native:apimanagement:Logger": "loggerId",
  "azure-native:apimanagement:Diagnostic": "diagnosticId",
  "azure-native:apimanagement:ApiDiagnostic": "diagnosticId",
  "azure-native:authorization:RoleAssignment": "roleAssignmentName",
  "azure-native:operationalinsights:Workspace": "workspaceName",
  "azure-native:applicationinsights:Component": "resourceName",
  "azure-native:monitor:DiagnosticSetting": "name",
};

/** Deterministic placeholder text from a seed: same seed, same text, on every run. */
export function placeholder(seed: string, length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"): string {
  const bytes = crypto.createHash("sha256").update(seed).digest();
  let out = "";
  for (let i = 0; i < length; i++) {
    out += alphabet[bytes[i % bytes.length] % alphabet.length];
  }
  return out;
}

/** A placeholder GUID derived from a seed. */
export function placeholderGuid(seed: string): string {
  const hex = crypto.createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" && value.length > 0 ? value : fallback;
}

/** Ids and outputs Azure would compute, as deterministic placeholders. */
export function mockNewResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
  const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
  const state: Record<string, unknown> = { ...inputs };
  const nameInput = NAME_INPUTS[args.type];
  if (nameInput !== undefined) {
    state.name = str(inputs[nameInput], args.name);
  }
  const rg = `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${str(inputs.resourceGroupName, "rg")}`;
  let id = `${args.name}-id`;
  const template = ARM_PATHS[args.type];
  if (template !== undefined) {
    id = rg + template.replace(/\{(\w+)\}/g, (_, key: string) => str(inputs[key], args.name));
  }
  switch (args.type) {
    case "azure-native:cognitiveservices:Account": {
      const properties = (inputs.properties ?? {}) as Record<string, unknown>;
      const subdomain = str(properties.customSubDomainName, args.name);
      state.properties = { ...properties, endpoint: `https://${subdomain}.openai.azure.com/` };
      break;
    }
    case "azure-native:apimanagement:ApiManagementService": {
      const name = str(inputs.serviceName, args.name);
      state.gatewayUrl = `https://${name}.azure-api.net`;
      state.gatewayRegionalUrl = regionalGatewayUrl(name, str(inputs.location, "primary"));
      state.location = displayLocation(str(inputs.location, "primary"));
      state.additionalLocations = ((inputs.additionalLocations ?? []) as Record<string, unknown>[]).map((l) => ({
        ...l,
        location: displayLocation(str(l.location, "secondary")),
        gatewayRegionalUrl: regionalGatewayUrl(name, str(l.location, "secondary")),
      }));
      state.identity = {
        ...(inputs.identity as object),
        principalId: placeholderGuid(`principal/${name}`),
        tenantId: PLACEHOLDER_TENANT_ID,
      };
      break;
    }
    case "azure-native:apimanagement:Subscription":
      state.primaryKey = `placeholder-primary-key-${placeholder(args.name, 16)}`;
      state.secondaryKey = `placeholder-secondary-key-${placeholder(args.name, 16)}`;
      break;
    case "azure-native:authorization:RoleAssignment":
      id = `${str(inputs.scope, "/")}/providers/Microsoft.Authorization/roleAssignments/${str(inputs.roleAssignmentName, args.name)}`;
      break;
    case "azure-native:monitor:DiagnosticSetting":
      id = `${str(inputs.resourceUri, "/")}/providers/Microsoft.Insights/diagnosticSettings/${str(inputs.name, args.name)}`;
      break;
    case "azure-native:operationalinsights:Workspace":
      state.customerId = placeholderGuid(`workspace/${args.name}`);
      break;
    case "azure-native:applicationinsights:Component": {
      const key = placeholderGuid(`appinsights/${args.name}`);
      state.instrumentationKey = key;
      state.connectionString = `InstrumentationKey=${key};IngestionEndpoint=https://placeholder.in.applicationinsights.azure.com/`;
      break;
    }
    case "random:index/randomString:RandomString": {
      const length = typeof inputs.length === "number" ? inputs.length : 8;
      state.result = placeholder(
        `random/${args.name}`,
        length,
        inputs.upper === false ? "abcdefghijklmnopqrstuvwxyz0123456789" : undefined,
      );
      break;
    }
    default:
      if (nameInput === undefined && args.custom !== false) {
        state.name = args.name;
      }
  }
  return { id, state };
}

export function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  if (args.token === "azure-native:authorization:getClientConfig") {
    return {
      subscriptionId: PLACEHOLDER_SUBSCRIPTION_ID,
      tenantId: PLACEHOLDER_TENANT_ID,
      clientId: "22222222-2222-2222-2222-222222222222",
      objectId: "33333333-3333-3333-3333-333333333333",
    };
  }
  if (args.token === "azure-native:apimanagement:listSubscriptionSecrets") {
    const sid = String((args.inputs as Record<string, unknown>).sid);
    return {
      primaryKey: `placeholder-primary-key-${placeholder(`key1/${sid}`, 16)}`,
      secondaryKey: `placeholder-secondary-key-${placeholder(`key2/${sid}`, 16)}`,
    };
  }
  if (args.token === "azure-native:applicationinsights:getComponent") {
    const { resourceGroupName, resourceName } = args.inputs as Record<string, string>;
    const key = placeholderGuid(`appinsights/${resourceName}`);
    return {
      id: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${resourceGroupName}/providers/Microsoft.Insights/components/${resourceName}`,
      name: resourceName,
      connectionString: `InstrumentationKey=${key};IngestionEndpoint=https://placeholder.in.applicationinsights.azure.com/`,
    };
  }
  if (args.token === "azure-native:operationalinsights:getWorkspace") {
    const { resourceGroupName, workspaceName } = args.inputs as Record<string, string>;
    return {
      id: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/${workspaceName}`,
      name: workspaceName,
      // The offline runtime cannot know where an existing workspace is; this placeholder says so.
      location: "existing-workspace-region",
    };
  }
  throw new Error(`The offline runtime has no answer for the invoke ${args.token}`);
}
