import { expect } from "chai";
import { ConfigError } from "../common/errors";
import type { ApimBackendArgs, ApimGatewayArgs } from "../components/apimGatewayArgs";
import { PLACEHOLDER_SUBSCRIPTION_ID } from "../offline/runtime/placeholders";
import { runPlan } from "../offline/commands/plan";
import type { PlanResult } from "../offline/plan/plan";
import { runProgram } from "../offline/runtime/program";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";

/** ARM id of an Azure OpenAI account this stack did not create (the "bring your own accounts" case). */
export function existingAccountId(name: string): string {
  return `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/${name}`;
}

/** ApimGateway args for a small BasicV2 gateway in swedencentral over `backends`, tagged env: test. */
export function gatewayArgs(backends: ApimBackendArgs[]): ApimGatewayArgs {
  return {
    resourceGroupName: "rg-gw",
    location: "swedencentral",
    sku: { name: "BasicV2" },
    publisherEmail: "platform@contoso.com",
    publisherName: "Contoso",
    backends,
    tags: { env: "test" },
  };
}

/** A backend entry for an existing account `ai-<name>` in `location`, hosting `deployments`. */
export function existingBackend(
  name: string,
  location: string,
  priority?: number,
  weight?: number,
  deployments: string[] = ["chat"],
) {
  return {
    name,
    location,
    endpoint: `https://ai-${name}.openai.azure.com/`,
    resourceId: existingAccountId(`ai-${name}`),
    ...(priority === undefined ? {} : { priority }),
    ...(weight === undefined ? {} : { weight }),
    deployments,
  };
}

/**
 * Runs `program` under mocks expecting it to throw; returns the error and the names of whatever it
 * registered before throwing (which should be nothing for bad input).
 */
export async function attempt(program: () => void): Promise<{ error: unknown; registered: string[] }> {
  const registered: string[] = [];
  try {
    await runMocked({ config: {}, onRegister: (r) => registered.push(r.name) }, () => {
      program();
      return {};
    });
  } catch (error) {
    return { error, registered };
  }
  return { error: undefined, registered };
}

export { ofType } from "../offline/runtime/recorder";

/** The ConfigError `run` throws; fails the test if it throws something else or nothing. */
export function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/** The one registration with this logical name (fails loudly if there is none or several). */
export function named(resources: readonly RecordedResource[], name: string): RecordedResource {
  const found = resources.filter((r) => r.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one resource named ${name}, found ${found.length}: ${resources.map((r) => r.name).join(", ")}`,
    );
  }
  return found[0];
}

/** Reads a nested input, e.g. `input(r, "properties", "disableLocalAuth")`. */
export function input(resource: RecordedResource, ...path: string[]): unknown {
  let value: unknown = resource.inputs;
  for (const key of path) {
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  return value;
}

export const TYPES = {
  account: "azure-native:cognitiveservices:Account",
  deployment: "azure-native:cognitiveservices:Deployment",
  scaleSet: "openai-apim:index:OpenAiScaleSet",
  gateway: "openai-apim:index:ApimGateway",
  service: "azure-native:apimanagement:ApiManagementService",
  backend: "azure-native:apimanagement:Backend",
  api: "azure-native:apimanagement:Api",
  apiPolicy: "azure-native:apimanagement:ApiPolicy",
  product: "azure-native:apimanagement:Product",
  productApi: "azure-native:apimanagement:ProductApi",
  subscription: "azure-native:apimanagement:Subscription",
  roleAssignment: "azure-native:authorization:RoleAssignment",
  metricAlert: "azure-native:monitor:MetricAlert",
  logger: "azure-native:apimanagement:Logger",
  diagnostic: "azure-native:apimanagement:Diagnostic",
  apiDiagnostic: "azure-native:apimanagement:ApiDiagnostic",
  workspace: "azure-native:operationalinsights:Workspace",
  appInsights: "azure-native:applicationinsights:Component",
  diagnosticSetting: "azure-native:monitor:DiagnosticSetting",
  resourceGroup: "azure-native:resources:ResourceGroup",
  randomString: "random:index/randomString:RandomString",
} as const;

/** Role assignments of the built-in role "Cognitive Services OpenAI User" (the gateway's grants on the accounts). */
export function openAiUserGrants(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter(
    (r) =>
      r.type === TYPES.roleAssignment &&
      String(r.inputs.roleDefinitionId).endsWith("/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"),
  );
}

/** Runs a command's `main` in-process and collects what it writes to stdout and stderr. */
export async function captureOutput(
  run: () => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const original = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
  try {
    return { code: await run(), stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
}

const programRuns = new Map<string, Promise<ProgramRun>>();
const plans = new Map<string, Promise<PlanResult>>();

/**
 * runProgram once per (stack, config) in a test process: a run is deterministic and tests only read
 * it, so the files that all need the production example share one run instead of paying for several.
 */
export function programRun(config: Record<string, string>, stack: string): Promise<ProgramRun> {
  const key = `${stack}\n${JSON.stringify(config)}`;
  if (!programRuns.has(key)) programRuns.set(key, runProgram({ config, stack }));
  return programRuns.get(key)!;
}

/** runPlan once per (stack, stack file) in a test process, for the same reason. */
export function planRun(options: { stack: string; stackFile?: string }): Promise<PlanResult> {
  const key = `${options.stack}\n${options.stackFile ?? ""}`;
  if (!plans.has(key)) plans.set(key, runPlan(options));
  return plans.get(key)!;
}
