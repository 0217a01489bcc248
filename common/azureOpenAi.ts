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
