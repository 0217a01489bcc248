import { renderApiPolicy, type ApiPolicyOptions, type PolicyTeam } from "../../policies/apiPolicy";
import { renderTeamProductPolicy } from "../../policies/teamPolicy";
import { inferenceSpec, routedOperations } from "../../openapi/spec";

/*
 * Policies that together use every expression the renderer can write: each caller mode, token limit
 * and metric, one account and several, retries and none. What the compile check (compile.ts) and its
 * test run through the compiler.
 */

const accounts = [
  { backendId: "account-a", priority: 1, weight: 50 },
  { backendId: "account-b", priority: 1, weight: 50 },
  { backendId: "account-c", priority: 2, weight: 100 },
];

const base: ApiPolicyOptions = {
  routes: [
    { deployment: "gpt-4o", poolId: "pool-gpt-4o", accounts },
    { deployment: "text-embedding-3-large", poolId: "pool-text-embedding-3-large", accounts: [accounts[2]] },
  ],
  accounts,
  operations: routedOperations(inferenceSpec()),
  retry: {
    count: 2,
    intervalSeconds: 1,
    deltaSeconds: 1,
    maxIntervalSeconds: 10,
    firstFastRetry: true,
    statusCodes: [429, 500, 503],
  },
  retryAfterSeconds: 60,
  tokenMetric: { namespace: "openai-apim" },
  tokenLimit: { tokensPerMinute: 10000, estimatePromptTokens: true },
};

const ENTRA = {
  tenantId: "00000000-0000-0000-0000-000000000001",
  audiences: ["https://cognitiveservices.azure.com"],
  allowedClientIds: ["00000000-0000-0000-0000-000000000002"],
};

const TEAMS: PolicyTeam[] = [
  {
    name: "bots",
    deployments: ["gpt-4o"],
    tokensPerMinute: 1000,
    tokenQuota: { tokens: 100000, period: "Daily" },
    entraClientIds: ENTRA.allowedClientIds,
  },
  { name: "batch", tokensPerMinute: 500 },
];

export function policyVariants(): { name: string; xml: string }[] {
  const single = [{ backendId: "account-a", priority: 0, weight: 1 }];
  const variants: Record<string, ApiPolicyOptions> = {
    "keys, token limit and metric": base,
    "keys and Entra ID tokens": { ...base, callerAuth: { subscriptionKey: true, entraId: ENTRA } },
    "Entra ID tokens only": { ...base, callerAuth: { subscriptionKey: false, entraId: ENTRA } },
    "teams, with Entra ID applications": {
      ...base,
      callerAuth: { subscriptionKey: true, entraId: ENTRA },
      teams: TEAMS,
    },
    "one account, no retries, no token accounting": {
      ...base,
      routes: [{ deployment: "gpt-4o", poolId: "pool-gpt-4o", accounts: single }],
      accounts: single,
      retry: { ...base.retry, count: 0 },
      tokenMetric: undefined,
      tokenLimit: undefined,
    },
  };
  return [
    ...Object.entries(variants).map(([name, options]) => ({ name, xml: renderApiPolicy(options) })),
    ...TEAMS.map((team) => ({ name: `the product policy of team ${team.name}`, xml: renderTeamProductPolicy(team) })),
  ];
}
