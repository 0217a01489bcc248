import { DEPLOYMENT_SKUS, type DeploymentSku } from "./azureOpenAi";
import snapshot from "./modelAvailabilitySnapshot.json";

/*
 * Where Microsoft offers each Azure OpenAI model version, per deployment SKU: a dated snapshot of the
 * model availability tables in Microsoft's documentation (modelAvailabilitySnapshot.json names the source
 * files and commits). Azure refuses a deployment where the model is not offered, minutes into
 * `pulumi up`; checking against the snapshot turns that into a config error. Availability only grows
 * over time, so what the snapshot does not know is a warning, and newer availability can be declared
 * with `additionalModelAvailability`.
 */

/** The date the snapshot was read from Microsoft's documentation. */
export const AVAILABILITY_SNAPSHOT_DATE = snapshot.snapshotDate;

type Table = Record<string, Record<string, string[]>>;
const TABLE = snapshot.availability as Table;

/** Availability the user declares beyond the snapshot (newer than it). */
export interface DeclaredAvailability {
  model: string;
  version: string;
  sku: string;
  regions: string[];
}

export type Availability =
  | { status: "available" }
  /** The snapshot knows this model version but not with this SKU in this region. */
  | { status: "unavailable"; regions: string[]; skusInRegion: DeploymentSku[] }
  /** The snapshot does not know the model, or not this version of it. */
  | { status: "unknown"; what: "model" | "version"; knownVersions: string[] };

const key = (model: string, version: string) => `${model}@${version}`;

/** Every version of `model` the snapshot lists, under any SKU. */
function versionsOf(model: string): string[] {
  const versions = new Set<string>();
  for (const models of Object.values(TABLE)) {
    for (const k of Object.keys(models)) {
      const at = k.lastIndexOf("@");
      if (k.slice(0, at) === model) versions.add(k.slice(at + 1));
    }
  }
  return [...versions].sort();
}

/** Whether Microsoft offers `model` `version` with `sku` in `region`, by the snapshot plus what the user declares. */
export function availabilityOf(
  model: string,
  version: string,
  sku: DeploymentSku,
  region: string,
  declared: readonly DeclaredAvailability[] = [],
): Availability {
  const matches = (d: DeclaredAvailability) => d.model === model && d.version === version && d.sku === sku;
  if (declared.some((d) => matches(d) && d.regions.includes(region))) {
    return { status: "available" };
  }
  const versions = versionsOf(model);
  if (!versions.includes(version)) {
    return { status: "unknown", what: versions.length === 0 ? "model" : "version", knownVersions: versions };
  }
  const regions = TABLE[sku]?.[key(model, version)] ?? [];
  if (regions.includes(region)) {
    return { status: "available" };
  }
  return {
    status: "unavailable",
    regions,
    skusInRegion: DEPLOYMENT_SKUS.filter((s) => TABLE[s]?.[key(model, version)]?.includes(region)),
  };
}

/** The "allowed" half of a problem report for an unavailable deployment. */
export function describeUnavailable(
  model: string,
  version: string,
  sku: string,
  region: string,
  availability: Extract<Availability, { status: "unavailable" }>,
): string {
  const where = availability.regions.length
    ? `a region where Microsoft offers ${model} ${version} with SKU ${sku}: ${availability.regions.join(", ")}`
    : `a SKU Microsoft offers ${model} ${version} with (it has no ${sku} deployments)`;
  const here = availability.skusInRegion.length
    ? `; in ${region} it is offered as ${availability.skusInRegion.join(", ")}`
    : `; it is not offered in ${region} at all`;
  return (
    `${where}${here} (Microsoft's model availability tables, ${AVAILABILITY_SNAPSHOT_DATE}); ` +
    "if Azure offers it there by now, declare it in additionalModelAvailability"
  );
}
