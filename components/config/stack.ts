import * as pulumi from "@pulumi/pulumi";
import { ConfigError, toProblems, type ConfigProblem } from "./errors";
import {
  additionalRegionsSchema,
  closest,
  stackConfigSchema,
  type DeploymentSku,
  type ParsedStackConfig,
} from "./schema";

/** The config namespace of this project's keys (`openai-apim:instances`, ...). */
export const CONFIG_NAMESPACE = "openai-apim";

/** Keys read from the `openai-apim` namespace; any other key there is reported as a typo. */
export const STACK_CONFIG_KEYS = [
  "instances",
  "deployments",
  "apim",
  "circuitBreaker",
  "retry",
  "api",
  "monitoring",
  "tokenLimit",
  "tags",
  "resourceGroupName",
  "additionalRegions",
] as const;

/** Keys whose value is a plain string, never JSON (a resource group called "123" stays a string). */
const STRING_KEYS: ReadonlySet<string> = new Set(["resourceGroupName"]);

/** A model deployment as it is created on one instance, after that instance's overrides. */
export interface ResolvedDeployment {
  name: string;
  model: string;
  version: string;
  sku: DeploymentSku;
  capacity: number;
  versionUpgradeOption: string;
}

/** An OpenAI instance with every default filled in. */
export interface ResolvedInstance {
  /** Unique key of the instance; names its Azure resources. Defaults to the location. */
  name: string;
  location: string;
  priority: number;
  weight: number;
  deployments: ResolvedDeployment[];
}

/**
 * The validated stack config with every default applied. `instances` keeps the configured shape
 * (what `OpenAiScaleSet` takes); `resolvedInstances` has names, weights and per-instance
 * deployments filled in (what capacity arithmetic, the plan and the simulator read).
 */
export type StackConfig = ParsedStackConfig & { resolvedInstances: ResolvedInstance[] };

interface InstanceInput {
  location: string;
  name?: string;
  priority: number;
  weight?: number;
  deployments?: Record<string, { sku?: DeploymentSku; capacity?: number }>;
}

/**
 * Fills in instance defaults: the name (the location), the weight (equal shares inside a priority
 * group when nobody set one), and each deployment's SKU/capacity after the instance's overrides.
 */
export function resolveInstances(
  instances: readonly InstanceInput[],
  deployments: readonly ResolvedDeployment[],
): ResolvedInstance[] {
  return instances.map((instance) => ({
    name: instance.name ?? instance.location,
    location: instance.location,
    priority: instance.priority,
    weight: instance.weight ?? 1,
    deployments: deployments.map((deployment) => ({
      ...deployment,
      ...stripUndefined(instance.deployments?.[deployment.name] ?? {}),
    })),
  }));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const rootKey = (first: string) =>
  first === "location" ? "azure-native:location" : first === "" ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${first}`;

/**
 * Validates raw stack config (key -> parsed value, `location` being `azure-native:location`) and
 * applies defaults. Reports every problem at once in a `ConfigError`.
 */
export function parseStackConfig(raw: Record<string, unknown>, unknownKeys: readonly string[] = []): StackConfig {
  const problems: ConfigProblem[] = unknownKeys.map((key) => {
    const hint = closest(key, STACK_CONFIG_KEYS);
    return {
      key: `${CONFIG_NAMESPACE}:${key}`,
      given: "a key this project does not read",
      allowed: `only the keys ${STACK_CONFIG_KEYS.join(", ")}` + (hint ? ` (did you mean "${hint}"?)` : ""),
    };
  });
  const extra = additionalRegionsSchema.safeParse(raw.additionalRegions);
  const schema = stackConfigSchema(extra.success ? extra.data : []);
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    problems.push(...toProblems(result.error.issues, rootKey));
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError("Invalid stack config", problems);
  }
  return { ...result.data, resolvedInstances: resolveInstances(result.data.instances, result.data.deployments) };
}

/**
 * Validates config in the form the engine hands a program (`namespace:key` -> text, structured
 * values as JSON), as `pulumi.runtime.allConfig()` returns it.
 */
export function parseEngineConfig(engineConfig: Record<string, string>): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = { location: engineConfig["azure-native:location"] };
  const unknownKeys: string[] = [];
  for (const [fullKey, text] of Object.entries(engineConfig)) {
    if (!fullKey.startsWith(prefix)) {
      continue;
    }
    const key = fullKey.slice(prefix.length);
    if ((STACK_CONFIG_KEYS as readonly string[]).includes(key)) {
      raw[key] = STRING_KEYS.has(key) ? text : parseJsonOrText(text);
    } else {
      unknownKeys.push(key);
    }
  }
  return parseStackConfig(raw, unknownKeys);
}

/**
 * Reads this project's keys from the current stack's config and validates them. Call once at
 * program start, before any resource is registered.
 */
export function readStackConfig(): StackConfig {
  return parseEngineConfig(pulumi.runtime.allConfig());
}

/** Structured config arrives as JSON text; a bare word (`swedencentral`) stays text so the schema can name it. */
function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
