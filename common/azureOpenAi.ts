/*
 * Azure OpenAI facts shared by validation, capacity arithmetic and the plan. Imports nothing.
 */

/** Model deployment SKUs of Azure OpenAI that an inference gateway can route to. */
export const DEPLOYMENT_SKUS = [
  "Standard",
  "GlobalStandard",
  "DataZoneStandard",
  "ProvisionedManaged",
  "GlobalProvisionedManaged",
  "DataZoneProvisionedManaged",
] as const;
export type DeploymentSku = (typeof DEPLOYMENT_SKUS)[number];

/** SKUs whose capacity is provisioned throughput units (PTUs) rather than thousands of tokens per minute. */
export const PROVISIONED_SKUS: readonly DeploymentSku[] = [
  "ProvisionedManaged",
  "GlobalProvisionedManaged",
  "DataZoneProvisionedManaged",
];

export function isProvisioned(sku: DeploymentSku): boolean {
  return PROVISIONED_SKUS.includes(sku);
}

export const VERSION_UPGRADE_OPTIONS = [
  "OnceCurrentVersionExpired",
  "OnceNewDefaultVersionAvailable",
  "NoAutoUpgrade",
] as const;

/** Audience of the Entra ID tokens Azure OpenAI accepts (APIM's managed identity and Entra ID callers). */
export const COGNITIVE_SERVICES_AUDIENCE = "https://cognitiveservices.azure.com";

/** Deployment names are case-insensitive in Azure: "GPT-4o" and "gpt-4o" name one deployment. */
export const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The names with later spellings of an earlier one left out (the first spelling names the deployment). */
export function distinctNames(names: Iterable<string>): string[] {
  const kept: string[] = [];
  for (const name of names) if (!kept.some((k) => sameName(k, name))) kept.push(name);
  return kept;
}

/** For each name, the index of the first one it repeats (ignoring case), or undefined. */
export function firstSpellings(names: readonly string[]): (number | undefined)[] {
  return names.map((name, i) => {
    const first = names.findIndex((other) => sameName(other, name));
    return first < i ? first : undefined;
  });
}
