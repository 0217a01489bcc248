import { z } from "zod";
import { MAX_PRODUCTS, TOKEN_QUOTA_PERIODS, type ApimSku } from "../common/apim";
import { applicationIdsSchema, int, strictObject } from "../common/validation";

/*
 * Teams sharing one gateway: each gets a product, a subscription and a policy with its token budget
 * and the deployments it may call (gatewayTeams.ts). The interfaces are what users (and other
 * languages) see; the schemas check the same fields; checkTeams() checks what needs the rest of the
 * config, for the component and the stack config alike.
 */

/** A token budget over a period, in addition to the per-minute rate. */
export interface TokenQuotaArgs {
  /** Tokens per period; at least the team's tokens per minute. */
  tokens: number;
  /** One of Hourly, Daily, Weekly, Monthly, Yearly (the periods azure-openai-token-limit supports). */
  period: string;
}

/** One team: a product with its own subscription, token budget and allowed deployments. */
export interface TeamArgs {
  /** Id of the team: lowercase letters, digits and hyphens; names its product `team-<name>` and subscription. */
  name: string;
  /** Name shown in APIM; default the team's name. */
  displayName?: string;
  /** Deployments the team may call; default all. Any other gets 403 from the gateway. */
  deployments?: string[];
  /** Tokens per minute for the whole team (azure-openai-token-limit); 429 with Retry-After beyond it. */
  tokensPerMinute?: number;
  /** Tokens per period (azure-openai-token-limit's quota); 403 beyond it until the period ends. */
  tokenQuota?: TokenQuotaArgs;
  /** Application (client) ids of the team's Entra ID callers (needs clientAuth.entraId); they count as the team. */
  entraClientIds?: string[];
}

export const TEAM_NAME_RULE = "1-40 lowercase letters, digits or '-', starting and ending with a letter or digit";
const TEAM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const MAX_TOKENS = 1_000_000_000_000;

export const tokenQuotaSchema = strictObject(
  {
    tokens: int(1, MAX_TOKENS, "a whole number of tokens ≥ 1"),
    period: z.enum(TOKEN_QUOTA_PERIODS, { error: `one of ${TOKEN_QUOTA_PERIODS.join(", ")}` }),
  },
  "an object { tokens, period }",
);

export const teamSchema = strictObject(
  {
    name: z
      .string({ error: `a team name: ${TEAM_NAME_RULE}` })
      .regex(TEAM_NAME, { error: `a team name: ${TEAM_NAME_RULE}` }),
    displayName: z
      .string({ error: "a display name of 1-300 characters" })
      .min(1, { error: "a display name of 1-300 characters" })
      .max(300, { error: "a display name of 1-300 characters" })
      .optional(),
    deployments: z
      .array(z.string({ error: "a deployment name" }), { error: "a list of deployment names" })
      .min(1, { error: "a list of at least one deployment (omit it to allow all)" })
      .optional(),
    tokensPerMinute: int(1, MAX_TOKENS, "a whole number of tokens per minute ≥ 1").optional(),
    tokenQuota: tokenQuotaSchema.optional(),
    entraClientIds: applicationIdsSchema("omit it for a team that calls with its key only").optional(),
  },
  "an object { name, displayName?, deployments?, tokensPerMinute?, tokenQuota?, entraClientIds? }",
).superRefine((team, ctx) => {
  if (team.tokenQuota && team.tokensPerMinute && team.tokenQuota.tokens < team.tokensPerMinute) {
    ctx.addIssue({
      code: "custom",
      path: ["tokenQuota", "tokens"],
      input: team.tokenQuota.tokens,
      message: `at least tokensPerMinute (${team.tokensPerMinute}): a smaller quota would stop the team within its first minute`,
    });
  }
});

// An empty list would leave the gateway with no product and no key at all: leave teams out instead.
export const teamsSchema = z
  .array(teamSchema, { error: "a list of teams { name, ... }" })
  .min(1, { error: "at least one team (leave teams out for one shared subscription key)" })
  .optional();

export type ParsedTeam = z.output<typeof teamSchema>;

/**
 * What needs the rest of the config: names unique (case-insensitively), deployments that exist,
 * Entra ID client ids only with Entra ID callers on and in one team each, products within the tier's
 * limit. `path` is where the teams list sits (`["teams"]`).
 */
export function checkTeams(
  teams: readonly ParsedTeam[] | undefined,
  context: { deployments: readonly string[]; entraId: boolean; sku?: ApimSku },
  ctx: z.RefinementCtx,
  path: (string | number)[] = ["teams"],
): void {
  if (!teams) return;
  const names = new Map<string, number>();
  const clients = new Map<string, number>();
  const known = context.deployments.map((d) => d.toLowerCase());
  teams.forEach((team, i) => {
    const first = names.get(team.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [...path, i, "name"],
        input: team.name,
        message: `a name not used by ${path.join(".")}[${first}]`,
      });
    }
    names.set(team.name, i);
    team.deployments?.forEach((deployment, j) => {
      if (!known.includes(deployment.toLowerCase())) {
        ctx.addIssue({
          code: "custom",
          path: [...path, i, "deployments", j],
          input: deployment,
          message: `a deployment the gateway serves: ${context.deployments.join(", ")}`,
        });
      }
    });
    if (team.entraClientIds && !context.entraId) {
      ctx.addIssue({
        code: "custom",
        path: [...path, i, "entraClientIds"],
        input: team.entraClientIds,
        message: "nothing unless clientAuth.entraId is set (the gateway accepts no Entra ID tokens)",
      });
    }
    team.entraClientIds?.forEach((id, j) => {
      const owner = clients.get(id.toLowerCase());
      if (context.entraId && owner !== undefined && owner !== i) {
        ctx.addIssue({
          code: "custom",
          path: [...path, i, "entraClientIds", j],
          input: id,
          message: `an application not already in ${path.join(".")}[${owner}] (a caller belongs to one team)`,
        });
      }
      clients.set(id.toLowerCase(), i);
    });
  });
  const limit = context.sku ? MAX_PRODUCTS[context.sku] : undefined;
  if (limit !== undefined && teams.length > limit) {
    ctx.addIssue({
      code: "custom",
      path,
      input: `${teams.length} teams`,
      message: `at most ${limit} teams on ${context.sku} (one product each; the tier's product limit)`,
    });
  }
}
