/**
 * The part of the world each region is in: what "near" means by default when a gateway in several
 * regions orders the OpenAI instances (instances in the gateway's own area first).
 */
export const REGION_AREAS = {
  americas: [
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralus",
    "chilecentral",
    "eastus",
    "eastus2",
    "mexicocentral",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "westus",
    "westus2",
    "westus3",
  ],
  europe: [
    "austriaeast",
    "belgiumcentral",
    "denmarkeast",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "italynorth",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uksouth",
    "ukwest",
    "westeurope",
  ],
  asiapacific: [
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "centralindia",
    "eastasia",
    "indonesiacentral",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "newzealandnorth",
    "southeastasia",
    "southindia",
    "taiwannorth",
    "taiwannorthwest",
    "westindia",
  ],
  middleeastafrica: ["israelcentral", "qatarcentral", "southafricanorth", "southafricawest", "uaecentral", "uaenorth"],
} as const;

export type RegionArea = keyof typeof REGION_AREAS;

/**
 * Programmatic names of Azure public-cloud physical regions (the `name` field of
 * `az account list-locations`). Checked at config time so that a typo fails in a second instead of
 * minutes into a deployment. Logical "geography" locations (`europe`, `unitedstates`, ...) and
 * staging/EUAP regions are left out on purpose: no OpenAI account or APIM instance can live there.
 *
 * A region Azure opens after this list was written can be allowed through the stack config key
 * `openai-apim:additionalRegions` (or the `additionalRegions` arg of the components) until the list
 * is updated.
 */
export const AZURE_REGIONS: readonly string[] = Object.values(REGION_AREAS).flat();

/** The area of a region; undefined for one this list does not know (an additional region). */
export function areaOf(region: string): RegionArea | undefined {
  return (Object.keys(REGION_AREAS) as RegionArea[]).find((area) =>
    (REGION_AREAS[area] as readonly string[]).includes(region),
  );
}

/**
 * A region's short name ("swedencentral") from what Azure may answer instead: some resources report
 * their location by display name ("Sweden Central"), API Management among them.
 */
export function shortRegionName(location: string): string {
  return location.replace(/\s+/g, "").toLowerCase();
}
