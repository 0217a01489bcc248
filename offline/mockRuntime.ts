import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/*
 * Runs a Pulumi program in-process under the SDK's mock runtime and records what it would send to
 * Azure. Used by the tests and by `npm run plan`. Values Azure computes (ids, endpoints, keys,
 * principal ids) are deterministic placeholders derived from resource names, so two runs of the same
 * config produce identical records.
 */

/** Subscription id every placeholder ARM id uses; obviously not a real one. */
export const PLACEHOLDER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000";
export const PLACEHOLDER_TENANT_ID = "11111111-1111-1111-1111-111111111111";

/** One resource registration, as the engine would receive it. */
export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent (the stack, or a component). */
  parent: string;
  custom: boolean;
  inputs: Record<string, unknown>;
  /** URNs of every resource this one depends on (parent excluded; `dependsOn` and input dependencies). */
  dependencies: string[];
  /** URNs of resources named in `dependsOn` or in input values, per input property. */
  propertyDependencies: Record<string, string[]>;
  /** What the mock answered for outputs (placeholders for Azure-computed values). */
  state: Record<string, unknown>;
  id?: string;
  customTimeouts?: { create?: string; update?: string; delete?: string };
  additionalSecretOutputs: string[];
  /** Paths (e.g. `credentials.connectionString`) of inputs sent to the engine as secrets. */
  secretInputs: string[];
}

/** Registrations of one resource type, in registration order. */
export function ofType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** The program's exports with every output resolved (secrets unwrapped, see `secretOutputs`). */
  outputs: Record<string, unknown>;
  /** Names of exports that are secret outputs. */
  secretOutputs: string[];
  /** Invokes the program made, by token. */
  invokes: string[];
}

export interface RunOptions {
  /** Config as `pulumi config` stores it: `namespace:key` -> string (structured values as JSON text). */
  config: Record<string, string>;
  secretKeys?: string[];
  project?: string;
  stack?: string;
  /** Absolute path of the program entry; default: the repository's index.ts. */
  entry?: string;
  /** `pulumi preview` instead of `pulumi up`. */
  preview?: boolean;
  /** Called for every registration as it happens, so a caller sees them even if the program throws. */
  onRegister?: (resource: RecordedResource) => void;
}

interface RegisterRequest {
  getObject(): { toJavaScript(): unknown };
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getAdditionalsecretoutputsList(): string[];
}

type Monitor = { registerResource(req: RegisterRequest, callback: (err: unknown, res: unknown) => void): unknown };

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

const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** Paths of values the SDK serialized as secrets (its wire format marks them with a signature key). */
export function secretPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object") {
    return [];
  }
  if ((value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([key, inner]) => secretPaths(inner, prefix ? `${prefix}.${key}` : key));
}

/** The value with the SDK's secret wrappers removed (where they were is what `secretPaths` reports). */
export function unwrapSecrets(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map(unwrapSecrets);
  }
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE) {
    return unwrapSecrets(record.value);
  }
  if (SECRET_SIGNATURE_KEY in record) {
    return value; // assets, archives, resource references: leave as the SDK made them
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

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

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
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
  throw new Error(`The offline runtime has no answer for the invoke ${args.token}`);
}

/** The SDK's internal "wait until every registration RPC has finished", which `pulumi up` itself relies on. */
function waitForRegistrations(): Promise<void> {
  // Not in the SDK's public typings; exported from runtime/settings since 3.x and used on shutdown.
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  return settings.waitForRPCs();
}

async function resolveDeep(value: unknown, secrets: { found: boolean }): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const output = value as pulumi.Output<unknown>;
    // isSecret/promise are internal-but-stable members every Output has; the public API offers no await.
    const internal = output as unknown as { isSecret: Promise<boolean>; promise(): Promise<unknown> };
    if (await internal.isSecret) {
      secrets.found = true;
    }
    return resolveDeep(await internal.promise(), secrets);
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((v) => resolveDeep(v, secrets)));
  }
  if (value !== null && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v, secrets)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Runs the program once under mocks. Throws what the program throws (a `ConfigError` for bad config)
 * after the registrations it did make have settled.
 */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  const entry = require.resolve(options.entry ?? path.resolve(__dirname, "..", "index.ts"));
  return runMocked(options, () => {
    // A fresh evaluation per run: the program reads its config at load time.
    delete require.cache[entry];
    return require(entry) as Record<string, unknown>;
  });
}

/**
 * Runs `program` (which registers resources and returns its exports) under mocks with the given
 * config, and records every registration.
 */
export async function runMocked(
  options: Omit<RunOptions, "entry">,
  program: () => Record<string, unknown>,
): Promise<ProgramRun> {
  const project = options.project ?? "openai-apim";
  const stack = options.stack ?? "dev";
  const recorded: RecordedResource[] = [];
  const invokes: string[] = [];
  // The registration in flight: MockMonitor calls newResource synchronously from registerResource.
  let registering: RecordedResource | undefined;

  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const result = mockNewResource(args);
        const record = registering;
        if (record && record.type === args.type && record.name === args.name) {
          record.inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
          record.state = result.state;
          record.id = result.id;
        }
        return result;
      },
      call: (args) => {
        invokes.push(args.token);
        return mockCall(args);
      },
    },
    project,
    stack,
    options.preview ?? false,
  );

  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => {
      propertyDependencies[key] = value.getUrnsList();
    });
    const timeouts = req.getCustomtimeouts();
    const record: RecordedResource = {
      type: req.getType(),
      name: req.getName(),
      urn: "",
      parent: req.getParent(),
      custom: req.getCustom(),
      inputs: {},
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      state: {},
      customTimeouts:
        timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
          ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() }
          : undefined,
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      secretInputs: secretPaths(req.getObject().toJavaScript()),
    };
    recorded.push(record);
    if (record.type !== "pulumi:pulumi:Stack") {
      options.onRegister?.(record);
    }
    registering = record;
    try {
      return register(req, (err, res) => {
        const response = res as { getUrn?: () => string } | undefined;
        record.urn = response?.getUrn?.() ?? "";
        callback(err, res);
      });
    } finally {
      registering = undefined;
    }
  };

  let exported: Record<string, unknown>;
  try {
    exported = program();
  } finally {
    await waitForRegistrations();
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(exported)) {
    const secrets = { found: false };
    outputs[key] = await resolveDeep(value, secrets);
    if (secrets.found) {
      secretOutputs.push(key);
    }
  }
  await waitForRegistrations();
  return { resources: recorded.filter((r) => r.type !== "pulumi:pulumi:Stack"), outputs, secretOutputs, invokes };
}
