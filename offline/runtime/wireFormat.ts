import * as pulumi from "@pulumi/pulumi";

/*
 * The SDK's wire format for property values, as a registration request or response carries them:
 * secrets are objects marked with the SDK's public signature constants.
 */

const { specialSigKey, specialSecretSig } = pulumi.runtime;

function isSecretWrapper(value: object): value is { value: unknown } {
  return (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** Paths (e.g. `credentials.connectionString`) of values serialized as secrets. */
export function secretPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object") {
    return [];
  }
  if (isSecretWrapper(value)) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([key, inner]) => secretPaths(inner, prefix ? `${prefix}.${key}` : key));
}

/** The value with the secret wrappers removed (where they were is what `secretPaths` reports). */
export function unwrapSecrets(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map(unwrapSecrets);
  }
  if (isSecretWrapper(value)) {
    return unwrapSecrets(value.value);
  }
  if (specialSigKey in value) {
    return value; // assets, archives, resource references: left as the SDK made them
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}
