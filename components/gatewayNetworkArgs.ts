import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { injectedAddresses, MIN_GATEWAY_SUBNET_PREFIX, VNET_MODES, type ApimSku } from "../common/apim";
import {
  contains,
  overlaps,
  parseCidr,
  privateRangeOf,
  shiftedCidr,
  sizeOf,
  SMALLEST_SUBNET_PREFIX,
  subBlock,
  usableAddresses,
  type Cidr,
} from "../common/cidr";
import { additionalRegionsSchema, declaredRegions, regionSchema, strictObject } from "../common/validation";
import type { ApimSkuArgs } from "./apimGatewayArgs";
import { inputOf, tagsInput } from "./inputs";

/*
 * The private network of a gateway: the args of GatewayNetwork (the VNet, subnets, NSG and private DNS
 * zone) and of ApimGateway's `network`, their schemas, and the checks that need the tier and the number
 * of accounts, shared with the stack config's `openai-apim:network`.
 */

/** The subnets a private gateway uses: address prefixes of a network to create, or existing subnets by id. */
export interface NetworkSubnetsArgs {
  /** The gateway's subnet: a CIDR inside `addressSpace`, or an existing subnet's resource id. Default: the first /24 of `addressSpace`. */
  gateway?: string;
  /** The subnet of the accounts' private endpoints: a CIDR inside `addressSpace`, or an existing subnet's id. Default: the /26 after the gateway's. */
  privateEndpoints?: string;
}

/** Args of GatewayNetwork. */
export interface GatewayNetworkArgs {
  /** Resource group of the network resources. */
  resourceGroupName: pulumi.Input<string>;
  /** Region of the virtual network: the gateway's. Default: the provider's location. */
  location?: string;
  /** The gateway's tier and units (they decide the subnet's delegation, size and NSG rules). */
  sku: ApimSkuArgs;
  /** `external` (default): clients reach the gateway from the internet; `internal`: only from inside the network (Developer, Premium). */
  gatewayAccess?: string;
  /** Address space of the virtual network to create; default 10.60.0.0/23. Not with existing subnets. */
  addressSpace?: string;
  /** The two subnets: CIDRs in the created network (default), or existing subnets by id. */
  subnets?: NetworkSubnetsArgs;
  /** An existing private DNS zone `privatelink.openai.azure.com` by id (central DNS); default: create one and link it. */
  privateDnsZoneId?: string;
  /** How many accounts get a private endpoint (sizes the endpoint subnet); default 30, the most a gateway takes. */
  privateEndpointCount?: number;
  /** Regions of the gateway's additional locations (Premium): each gets its own network, endpoints and zone. */
  additionalLocations?: string[];
  /** Tags of the network resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Region names to accept in addition to the built-in list. */
  additionalRegions?: string[];
}

/** Private endpoints of the accounts, in the gateway's network. */
export interface ApimPrivateEndpointsArgs {
  /** Subnet of the private endpoints. */
  subnetId: pulumi.Input<string>;
  /** The `privatelink.openai.azure.com` zone the endpoints register in. */
  privateDnsZoneId: pulumi.Input<string>;
}

/** How the gateway sits in a virtual network (ApimGateway's `network`). */
export interface ApimNetworkArgs {
  /** The gateway's subnet: injection on Developer/Premium, outbound integration on StandardV2 (delegated to Microsoft.Web/serverFarms). */
  subnetId: pulumi.Input<string>;
  /** `external` (default) or `internal` (Developer, Premium: reachable only inside the network). */
  gatewayAccess?: string;
  /** A private endpoint per account in this subnet, registered in this zone; without it, reach the accounts your own way. */
  privateEndpoints?: ApimPrivateEndpointsArgs;
  /** The same for each of the gateway's additional locations (a subnet must be in its region). */
  additionalLocations?: ApimRegionNetworkArgs[];
}

/** An additional gateway region's subnet and private endpoints. */
export interface ApimRegionNetworkArgs {
  /** The region (one of the gateway's additionalLocations). */
  location: string;
  /** The gateway's subnet in that region. */
  subnetId: pulumi.Input<string>;
  /** The region's own private endpoints to every account, and its zone. */
  privateEndpoints?: ApimPrivateEndpointsArgs;
}

export const DEFAULT_ADDRESS_SPACE = "10.60.0.0/23";
export const OPENAI_PRIVATE_DNS_ZONE = "privatelink.openai.azure.com";

const SUBNET_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
const ZONE_ID = new RegExp(
  `^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/privateDnsZones/${OPENAI_PRIVATE_DNS_ZONE.replace(/\./g, "\\.")}$`,
  "i",
);

/** The virtual network id of a subnet id. */
export const vnetOfSubnet = (subnetId: string) => subnetId.replace(/\/subnets\/[^/]+$/i, "");

const CIDR_OR_SUBNET =
  "a CIDR such as 10.60.0.0/24, or an existing subnet's resource id (/subscriptions/.../virtualNetworks/<vnet>/subnets/<subnet>)";
const cidrOrSubnet = z
  .string({ error: CIDR_OR_SUBNET })
  .refine((v) => parseCidr(v) !== undefined || SUBNET_ID.test(v), { error: CIDR_OR_SUBNET });

export const GATEWAY_ACCESS = ["external", "internal"] as const;
export const gatewayAccessSchema = z.enum(GATEWAY_ACCESS, { error: "external or internal" });

/** The network fields the stack config and GatewayNetwork share. */
export const networkFields = {
  gatewayAccess: gatewayAccessSchema.optional(),
  addressSpace: z
    .string({ error: "an IPv4 CIDR from /8 to /26 such as 10.60.0.0/23" })
    .refine(
      (v) => {
        const c = parseCidr(v);
        return c !== undefined && c.prefix >= 8 && c.prefix <= 26;
      },
      { error: "an IPv4 CIDR from /8 to /26 such as 10.60.0.0/23 (the address must start its block)" },
    )
    .optional(),
  subnets: strictObject(
    { gateway: cidrOrSubnet.optional(), privateEndpoints: cidrOrSubnet.optional() },
    "an object { gateway?, privateEndpoints? }",
  ).optional(),
  privateDnsZoneId: z
    .string({ error: `the resource id of a private DNS zone named ${OPENAI_PRIVATE_DNS_ZONE}` })
    .regex(ZONE_ID, { error: `the resource id of a private DNS zone named ${OPENAI_PRIVATE_DNS_ZONE}` })
    .optional(),
};

type NetworkFields = {
  gatewayAccess?: (typeof GATEWAY_ACCESS)[number];
  addressSpace?: string;
  subnets?: { gateway?: string; privateEndpoints?: string };
  privateDnsZoneId?: string;
};

/** The network to create, or the existing subnets to use, with defaults applied. */
export type ResolvedNetwork =
  | { kind: "create"; addressSpace: string; gatewayPrefix: string; privateEndpointPrefix: string }
  | { kind: "existing"; gatewaySubnetId: string; privateEndpointSubnetId: string };

/** Defaults: the first /24 of the address space for the gateway, the /26 after it for the endpoints. */
export function resolveNetwork(fields: NetworkFields): ResolvedNetwork {
  const subnets = fields.subnets ?? {};
  if (subnets.gateway && SUBNET_ID.test(subnets.gateway)) {
    return { kind: "existing", gatewaySubnetId: subnets.gateway, privateEndpointSubnetId: subnets.privateEndpoints! };
  }
  const space = parseCidr(fields.addressSpace ?? DEFAULT_ADDRESS_SPACE)!;
  const gateway = subnets.gateway ?? subBlock(space, Math.max(space.prefix, 24), 0).text;
  const after = parseCidr(gateway)!;
  const endpoints =
    subnets.privateEndpoints ??
    subBlock(space, 26, Math.ceil((after.start - space.start + 2 ** (32 - after.prefix)) / 64)).text;
  return { kind: "create", addressSpace: space.text, gatewayPrefix: gateway, privateEndpointPrefix: endpoints };
}

/**
 * What needs the tier and the accounts: a tier that can reach a network, `internal` only where the
 * gateway is injected, both subnets created or both existing, CIDRs inside the address space, not
 * overlapping and big enough for what goes in them. `path` is where the fields sit.
 */
export function checkNetwork(
  fields: NetworkFields,
  context: { sku: ApimSku; units: number; accounts: number; additionalLocations?: number },
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  const issue = (at: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: "custom", path: [...path, ...at], input, message });
  const mode = VNET_MODES[context.sku];
  if (!mode) {
    issue(
      [],
      "a private network",
      `a public network only: ${context.sku} cannot reach a virtual network (VNet injection is on Developer and Premium, outbound integration on StandardV2)`,
    );
    return;
  }
  if (fields.gatewayAccess === "internal" && mode === "integration") {
    issue(
      ["gatewayAccess"],
      "internal",
      `external: ${context.sku} integrates outbound only and its gateway stays public (an internal gateway needs Developer or Premium)`,
    );
  }
  const subnets = fields.subnets ?? {};
  const isId = (v: string | undefined) => v !== undefined && SUBNET_ID.test(v);
  if (isId(subnets.gateway) !== isId(subnets.privateEndpoints)) {
    issue(["subnets"], subnets, "both subnets as CIDRs of a network to create, or both as existing subnets' ids");
    return;
  }
  if (context.additionalLocations) {
    // Each region needs its own network and zone: a central zone would get one record per region for each account.
    if (isId(subnets.gateway)) {
      issue(
        ["subnets"],
        subnets,
        "CIDRs, with additional gateway regions: the stack creates a network in each region (existing subnets serve one region)",
      );
      return;
    }
    if (fields.privateDnsZoneId !== undefined) {
      issue(
        ["privateDnsZoneId"],
        fields.privateDnsZoneId,
        "nothing with additional gateway regions: each region gets a zone of its own",
      );
    }
  }
  if (isId(subnets.gateway)) {
    if (fields.addressSpace !== undefined) {
      issue(
        ["addressSpace"],
        fields.addressSpace,
        "nothing with existing subnets (their network has its own address space)",
      );
    }
    return;
  }
  // A malformed CIDR is already reported by its field's schema (refinements still run after it).
  const wellFormed = [fields.addressSpace, subnets.gateway, subnets.privateEndpoints].every(
    (v) => v === undefined || parseCidr(v) !== undefined,
  );
  if (!wellFormed) return;
  const resolved = resolveNetwork(fields) as Extract<ResolvedNetwork, { kind: "create" }>;
  const space = parseCidr(resolved.addressSpace)!;
  const gateway = parseCidr(resolved.gatewayPrefix)!;
  const endpoints = parseCidr(resolved.privateEndpointPrefix)!;
  if (context.additionalLocations) {
    // Each additional region's network takes the next block of the same size (gatewayNetwork.ts):
    // the last one must stay in the same private range, or it would use addresses of the internet.
    const last = shiftedCidr(space, context.additionalLocations * sizeOf(space));
    const range = privateRangeOf(space);
    if (last.start + sizeOf(last) > 2 ** 32 || (range && !contains(range, last))) {
      issue(
        ["addressSpace"],
        space.text,
        `an address space whose next ${context.additionalLocations} block(s) of its size, one per additional gateway region, stay inside ${range?.text ?? "IPv4"} (the last would be ${last.text}): use a smaller address space or one lower in the range`,
      );
    }
  }
  const inside = (at: string, c: Cidr) => {
    if (!contains(space, c)) issue(["subnets", at], c.text, `a CIDR inside the address space ${space.text}`);
  };
  inside("gateway", gateway);
  inside("privateEndpoints", endpoints);
  if (overlaps(gateway, endpoints)) {
    issue(
      ["subnets", "privateEndpoints"],
      endpoints.text,
      `a CIDR that does not overlap the gateway's subnet ${gateway.text}`,
    );
  }
  const min = MIN_GATEWAY_SUBNET_PREFIX[mode];
  const needed =
    mode === "injection" ? injectedAddresses(context.sku, context.units, fields.gatewayAccess === "internal") : 0;
  if (gateway.prefix > min || (needed > 0 && usableAddresses(gateway) < needed)) {
    issue(
      ["subnets", "gateway"],
      gateway.text,
      mode === "integration"
        ? `a /${min} or larger: ${context.sku}'s integration subnet needs at least /${min} (/24 recommended)`
        : `a subnet with at least ${needed} usable addresses for ${context.units} ${context.sku} unit(s) (Azure keeps 5 of every subnet), and no smaller than /${min}`,
    );
  }
  if (endpoints.prefix > SMALLEST_SUBNET_PREFIX || usableAddresses(endpoints) < context.accounts) {
    issue(
      ["subnets", "privateEndpoints"],
      endpoints.text,
      `a subnet with at least ${context.accounts} usable addresses, one per account's private endpoint (Azure keeps 5 of every subnet; /${SMALLEST_SUBNET_PREFIX} at the smallest)`,
    );
  }
}

/** GatewayNetwork's args, checked like the stack config's network. */
export function gatewayNetworkArgsSchema(args: unknown) {
  return strictObject(
    {
      resourceGroupName: inputOf(
        z.string({ error: "a resource group name" }).min(1, { error: "a resource group name" }),
      ),
      location: regionSchema(
        declaredRegions((args as { additionalRegions?: unknown } | undefined)?.additionalRegions),
      ).optional(),
      sku: strictObject(
        {
          name: z.enum(Object.keys(VNET_MODES) as [ApimSku, ...ApimSku[]], {
            error: `one of ${Object.keys(VNET_MODES).join(", ")}`,
          }),
          capacity: z.number({ error: "a whole number of units" }).int().min(1).default(1),
        },
        "an object { name, capacity? }",
      ),
      ...networkFields,
      additionalLocations: z
        .array(
          regionSchema(declaredRegions((args as { additionalRegions?: unknown } | undefined)?.additionalRegions)),
          {
            error: "a list of regions",
          },
        )
        .optional(),
      privateEndpointCount: z
        .number({ error: "a whole number of accounts from 1 to 30" })
        .int({ error: "a whole number of accounts from 1 to 30" })
        .min(1, { error: "a whole number of accounts from 1 to 30" })
        .max(30, { error: "a whole number of accounts from 1 to 30" })
        .default(30),
      tags: tagsInput.optional(),
      additionalRegions: additionalRegionsSchema,
    },
    "an object { resourceGroupName, sku, gatewayAccess?, addressSpace?, subnets?, privateDnsZoneId?, ... }",
  ).superRefine((parsed, ctx) =>
    checkNetwork(
      parsed,
      {
        sku: parsed.sku.name,
        units: parsed.sku.capacity,
        accounts: parsed.privateEndpointCount,
        additionalLocations: parsed.additionalLocations?.length ?? 0,
      },
      ctx,
      [],
    ),
  );
}

/** ApimGateway's `network` arg (the tier checks run with the rest of the gateway's args). */
const subnetIdInput = inputOf(
  z.string({ error: "a subnet resource id" }).regex(SUBNET_ID, { error: "a subnet resource id" }),
);
const privateEndpointsSchema = strictObject(
  {
    subnetId: subnetIdInput,
    privateDnsZoneId: inputOf(
      z
        .string({ error: `the resource id of a private DNS zone named ${OPENAI_PRIVATE_DNS_ZONE}` })
        .regex(ZONE_ID, { error: `the resource id of a private DNS zone named ${OPENAI_PRIVATE_DNS_ZONE}` }),
    ),
  },
  "an object { subnetId, privateDnsZoneId }",
).optional();

/** ApimGateway's `network` arg (the tier checks run with the rest of the gateway's args). */
export const apimNetworkSchema = strictObject(
  {
    subnetId: subnetIdInput,
    gatewayAccess: gatewayAccessSchema.default("external"),
    privateEndpoints: privateEndpointsSchema,
    additionalLocations: z
      .array(
        strictObject(
          {
            location: z.string({ error: "a region of the gateway's additionalLocations" }),
            subnetId: subnetIdInput,
            privateEndpoints: privateEndpointsSchema,
          },
          "an object { location, subnetId, privateEndpoints? }",
        ),
        { error: "a list of { location, subnetId, privateEndpoints? }" },
      )
      .optional(),
  },
  "an object { subnetId, gatewayAccess?, privateEndpoints?, additionalLocations? }",
);

/** Can this tier sit in a network this way (ApimGateway's own check of its `network`)? */
export function checkGatewayNetwork(
  network: { gatewayAccess: string; additionalLocations?: { location: string }[] } | undefined,
  sku: ApimSku,
  ctx: z.RefinementCtx,
  additionalLocations: readonly string[] = [],
): void {
  if (!network) return;
  const given = (network.additionalLocations ?? []).map((l) => l.location);
  const missing = additionalLocations.filter((l) => !given.includes(l));
  const extra = given.filter((l) => !additionalLocations.includes(l));
  if (missing.length || extra.length) {
    ctx.addIssue({
      code: "custom",
      path: ["network", "additionalLocations"],
      input: given,
      message: `one entry per additional location of the gateway (${additionalLocations.join(", ") || "none"}): a gateway in a network needs a subnet in each of its regions`,
    });
  }
  const mode = VNET_MODES[sku];
  if (!mode) {
    ctx.addIssue({
      code: "custom",
      path: ["network"],
      input: "a network",
      message: `nothing: ${sku} cannot reach a virtual network (VNet injection is on Developer and Premium, outbound integration on StandardV2)`,
    });
  } else if (network.gatewayAccess === "internal" && mode === "integration") {
    ctx.addIssue({
      code: "custom",
      path: ["network", "gatewayAccess"],
      input: "internal",
      message: `external: ${sku} integrates outbound only and its gateway stays public (an internal gateway needs Developer or Premium)`,
    });
  }
}
