import { z } from "zod";
import { APIM_SKU_UNITS, MULTI_REGION_TIERS, ZONE_TIERS, type ApimSku } from "../common/apim";
import { int, regionSchema, strictObject } from "../common/validation";

/*
 * Where the gateway runs: availability zones of its primary location and, on Premium, more regions
 * (additionalLocations). The interface is what users see; the schemas and checkGatewayRegions() are
 * shared by ApimGateway's args and the stack config's `openai-apim:apim`.
 */

/** One more region with gateway units (Premium only). */
export interface AdditionalLocationArgs {
  /** Azure region of these gateway units. */
  location: string;
  /** Premium units in that region (each billed as a Premium unit). */
  capacity: number;
  /** Availability zones of that region's units ("1", "2", "3"); the units must be a multiple of their number. */
  zones?: string[];
}

const ZONES = ["1", "2", "3"] as const;

export const zonesSchema = z
  .array(z.enum(ZONES, { error: 'a zone: "1", "2" or "3"' }), { error: 'a list of zones such as ["1", "2", "3"]' })
  .min(1, { error: 'a list of 1 to 3 zones such as ["1", "2", "3"]' })
  .max(3, { error: 'a list of 1 to 3 zones such as ["1", "2", "3"]' })
  .optional();

export function additionalLocationsSchema(additionalRegions: readonly string[]) {
  return z
    .array(
      strictObject(
        {
          location: regionSchema(additionalRegions),
          capacity: int(
            1,
            APIM_SKU_UNITS.Premium.max,
            `a whole number of Premium units from 1 to ${APIM_SKU_UNITS.Premium.max}`,
          ),
          zones: zonesSchema,
        },
        "an object { location, capacity, zones? }",
      ),
      { error: "a list of regions { location, capacity, zones? }" },
    )
    .optional();
}

interface Regions {
  sku: ApimSku;
  capacity: number;
  location?: string;
  zones?: readonly string[];
  additionalLocations?: readonly { location: string; capacity: number; zones?: readonly string[] }[];
}

/**
 * Zones only on tiers that have them, each zone once, and on Premium a unit count that is a multiple
 * of the zones (explicit zones take an even share each: enable-availability-zone-support.md);
 * additional locations only on Premium, each region once and not the primary one. `paths` says where
 * each field sits (the stack config and the component name them differently).
 */
export function checkGatewayRegions(
  regions: Regions,
  ctx: z.RefinementCtx,
  paths: {
    zones: (string | number)[];
    capacity: (string | number)[];
    additionalLocations: (string | number)[];
    location: (string | number)[];
  },
): void {
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: "custom", path, input, message });
  const checkZones = (
    zones: readonly string[] | undefined,
    units: number,
    at: (string | number)[],
    unitsAt: (string | number)[],
  ) => {
    if (!zones) return;
    if (new Set(zones).size !== zones.length) issue(at, zones, "each zone once");
    if (!ZONE_TIERS.includes(regions.sku)) {
      issue(at, zones, `nothing: ${regions.sku} has no availability zones (${ZONE_TIERS.join(" and ")} have)`);
    } else if (regions.sku === "Premium" && units % zones.length !== 0) {
      issue(
        unitsAt,
        units,
        `a multiple of the ${zones.length} zone(s) listed: Azure spreads explicitly zoned units evenly`,
      );
    }
  };
  checkZones(regions.zones, regions.capacity, paths.zones, paths.capacity);
  const extra = regions.additionalLocations;
  if (!extra?.length) return;
  if (!MULTI_REGION_TIERS.includes(regions.sku)) {
    issue(
      paths.additionalLocations,
      extra.map((l) => l.location),
      `nothing: only Premium runs gateway units in more than one region (${regions.sku} does not)`,
    );
    return;
  }
  if (!regions.location) {
    issue(
      paths.location,
      undefined,
      "the primary region, needed with additional locations (to order the instances per region)",
    );
  }
  const seen = new Set([regions.location]);
  extra.forEach((l, i) => {
    if (seen.has(l.location)) {
      issue(
        [...paths.additionalLocations, i, "location"],
        l.location,
        "a region not already used by the gateway (the primary location or an earlier additional one)",
      );
    }
    seen.add(l.location);
    checkZones(
      l.zones,
      l.capacity,
      [...paths.additionalLocations, i, "zones"],
      [...paths.additionalLocations, i, "capacity"],
    );
  });
}

/** Every region with gateway units, primary first. */
export function gatewayRegionsOf(location: string | undefined, additional?: readonly { location: string }[]): string[] {
  return [...(location ? [location] : []), ...(additional ?? []).map((l) => l.location)];
}

/** `nearGateways` of instances or backends must name gateway regions. */
export function checkNearGateways(
  items: readonly { nearGateways?: readonly string[] }[],
  gatewayRegions: readonly string[],
  ctx: z.RefinementCtx,
  path: (i: number, j: number) => (string | number)[],
): void {
  items.forEach((item, i) =>
    item.nearGateways?.forEach((region, j) => {
      if (!gatewayRegions.includes(region)) {
        ctx.addIssue({
          code: "custom",
          path: path(i, j),
          input: region,
          message: `a region the gateway runs in: ${gatewayRegions.join(", ") || "(none known: set the gateway's location)"}`,
        });
      }
    }),
  );
}
