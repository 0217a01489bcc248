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
export const AZURE_REGIONS: readonly string[] = [
  // Americas
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
  // Europe
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
  // Asia Pacific
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
  // Middle East and Africa
  "israelcentral",
  "qatarcentral",
  "southafricanorth",
  "southafricawest",
  "uaecentral",
  "uaenorth",
];
