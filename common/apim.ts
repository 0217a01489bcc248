/*
 * API Management facts this project relies on, in one place for the components, the plan and the
 * policy pack. This file imports nothing, so the policy pack (its own npm package) can use it.
 */

/**
 * APIM tiers this project deploys, with their scale-unit range. Consumption is left out on purpose:
 * it has no backend circuit breaker. Isolated is retired; PremiumV2 is not in ARM API 2024-05-01.
 */
export const APIM_SKU_UNITS = {
  Developer: { min: 1, max: 1 },
  Basic: { min: 1, max: 2 },
  Standard: { min: 1, max: 4 },
  Premium: { min: 1, max: 31 },
  BasicV2: { min: 1, max: 10 },
  StandardV2: { min: 1, max: 10 },
} as const;
export type ApimSku = keyof typeof APIM_SKU_UNITS;
export const APIM_SKUS = Object.keys(APIM_SKU_UNITS) as ApimSku[];

/** The classic (stv2) tiers; the v2 tiers refuse classic-only settings such as protocol switches. */
export const CLASSIC_TIERS: readonly ApimSku[] = ["Developer", "Basic", "Standard", "Premium"];

/** An APIM backend pool holds at most this many members. */
export const MAX_POOL_MEMBERS = 30;

/** Pool priority and weight are integers in this range; a lower priority number is preferred. */
export const POOL_PRIORITY_RANGE = { min: 0, max: 100 } as const;

/** APIM backend ids: at most 80 characters, none of `* # & + : < > ?` (ARM's pattern for backendId). */
export const BACKEND_ID_MAX_LENGTH = 80;
export const BACKEND_ID_FORBIDDEN = /[*#&+:<>?]/;

/** Built-in role "Cognitive Services OpenAI User": call inference APIs, nothing else. */
export const OPENAI_USER_ROLE_ID = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";

/**
 * Built-in role "Monitoring Metrics Publisher": lets APIM's identity send telemetry to Application
 * Insights, so the component can refuse instrumentation-key (local) authentication.
 */
export const MONITORING_METRICS_PUBLISHER_ROLE_ID = "3913510d-42f4-4e42-8a64-420c390055eb";

/**
 * Products an APIM instance may hold, by tier (service-limits.md, "Changes to service limits - 2026
 * update"; the v2 tiers already had these). Each team is one product.
 */
export const MAX_PRODUCTS: Record<ApimSku, number> = {
  Developer: 100,
  Basic: 200,
  BasicV2: 200,
  Standard: 500,
  StandardV2: 500,
  Premium: 2000,
};

/** Periods of azure-openai-token-limit's token-quota-period (azure-openai-token-limit-policy.md). */
export const TOKEN_QUOTA_PERIODS = ["Hourly", "Daily", "Weekly", "Monthly", "Yearly"] as const;
export type TokenQuotaPeriod = (typeof TOKEN_QUOTA_PERIODS)[number];

/**
 * How each tier reaches a virtual network (api-management-features.md, integrate-vnet-outbound.md,
 * virtual-network-concepts.md): classic Developer and Premium are injected into a subnet (gateway
 * public or internal); Standard v2 integrates outbound only (its gateway stays public, the subnet is
 * delegated to Microsoft.Web/serverFarms); Basic, Standard and Basic v2 cannot reach one at all.
 */
export const VNET_MODES: Record<ApimSku, "injection" | "integration" | undefined> = {
  Developer: "injection",
  Premium: "injection",
  StandardV2: "integration",
  Basic: undefined,
  Standard: undefined,
  BasicV2: undefined,
};

/** Smallest gateway subnet: /27 for v2 integration (integrate-vnet-outbound.md), /29 for injection. */
export const MIN_GATEWAY_SUBNET_PREFIX = { injection: 29, integration: 27 } as const;

/**
 * Subnet addresses an injected instance uses: two per unit (one on Developer), plus one for the
 * internal load balancer in internal mode (api-management-using-with-vnet.md, subnet size).
 */
export function injectedAddresses(sku: ApimSku, units: number, internal: boolean): number {
  return (sku === "Developer" ? 1 : 2) * units + (internal ? 1 : 0);
}

/** Delegation the v2 integration subnet needs (integrate-vnet-outbound.md). */
export const INTEGRATION_SUBNET_DELEGATION = "Microsoft.Web/serverFarms";

/**
 * Tiers whose units can spread over availability zones (reliability-api-management.md, 2026: Premium,
 * Premium v2 and Standard v2; not Developer, Basic, Standard, Basic v2).
 */
export const ZONE_TIERS: readonly ApimSku[] = ["Premium", "StandardV2"];

/** The only tier (in API 2024-05-01) with gateway units in more than one region (additionalLocations). */
export const MULTI_REGION_TIERS: readonly ApimSku[] = ["Premium"];

/**
 * A regional gateway's own URL, next to the global one that Azure routes to the nearest region
 * (api-management-howto-deploy-multi-region.md): `https://<service>-<region>-01.regional.azure-api.net`.
 */
export function regionalGatewayUrl(serviceName: string, region: string): string {
  return `https://${serviceName}-${region}-01.regional.azure-api.net`;
}
