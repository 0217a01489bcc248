import { isProvisioned, sameName, type DeploymentSku } from "./azureOpenAi";

/*
 * Capacity arithmetic: what a set of instances can serve per model deployment, and what is left when
 * the largest instance fails. Pure functions over the resolved config.
 *
 * Sources: Azure OpenAI "quotas and limits" (requests-per-minute per 1,000 tokens-per-minute) and
 * "provisioned throughput onboarding" (input tokens per minute per PTU). Models not listed here get
 * `undefined` where the figure depends on the model, never a guess.
 */

/** Requests per minute granted per 1,000 tokens per minute on non-provisioned SKUs, by model family. */
const RPM_PER_THOUSAND_TPM: readonly [RegExp, number][] = [
  [/^o1-mini$|^o3-mini$/, 1 / 10],
  [/^o1$|^o1-\d/, 1 / 6],
  [/^gpt-4\.1|^o3$|^o3-\d|^o4-mini/, 1],
  [/^gpt-4o|^gpt-4|^gpt-35|^text-embedding|^dall-e|^whisper/, 6],
];

/** Input tokens per minute that one PTU serves, by model (provisioned SKUs). */
const INPUT_TPM_PER_PTU: readonly [RegExp, number][] = [
  [/^gpt-4o-mini/, 37_000],
  [/^gpt-4o/, 2_500],
  [/^o1$|^o1-\d/, 230],
];

export { isProvisioned };

/** Provisioned deployments count one output token as this many input tokens. */
export const PTU_OUTPUT_TOKEN_WEIGHT = 3;

function lookup(table: readonly [RegExp, number][], model: string): number | undefined {
  return table.find(([pattern]) => pattern.test(model))?.[1];
}

/** Requests per minute per 1,000 TPM for a model on a non-provisioned SKU, if the model is known. */
export function rpmPerThousandTpm(model: string): number | undefined {
  return lookup(RPM_PER_THOUSAND_TPM, model);
}

/** Input tokens per minute per PTU for a model, if known. */
export function inputTpmPerPtu(model: string): number | undefined {
  return lookup(INPUT_TPM_PER_PTU, model);
}

/** What one deployment on one instance can take. */
export interface DeploymentThroughput {
  /** Tokens per minute: the quota for Standard SKUs, input tokens per minute for PTUs (undefined: unknown model). */
  tokensPerMinute: number | undefined;
  /** Requests per minute where the SKU defines a ratio (non-provisioned, known model). */
  requestsPerMinute: number | undefined;
}

export function deploymentThroughput(model: string, sku: DeploymentSku, capacity: number): DeploymentThroughput {
  if (isProvisioned(sku)) {
    const perPtu = inputTpmPerPtu(model);
    return { tokensPerMinute: perPtu === undefined ? undefined : capacity * perPtu, requestsPerMinute: undefined };
  }
  const tokensPerMinute = capacity * 1000;
  const ratio = rpmPerThousandTpm(model);
  return {
    tokensPerMinute,
    requestsPerMinute: ratio === undefined ? undefined : Math.floor(capacity * ratio),
  };
}

/** The shape of instance this module needs (the resolved config's instances fit). */
export interface CapacityInstance {
  name: string;
  priority: number;
  deployments: readonly { name: string; model: string; sku: DeploymentSku; capacity: number }[];
}

export interface InstanceShare {
  instance: string;
  priority: number;
  sku: DeploymentSku;
  capacity: number;
  tokensPerMinute: number | undefined;
  requestsPerMinute: number | undefined;
}

/** Aggregate capacity of one deployment name across all instances. */
export interface DeploymentCapacity {
  deployment: string;
  model: string;
  perInstance: InstanceShare[];
  /** Sum over instances; undefined if any instance's figure is unknown. */
  tokensPerMinute: number | undefined;
  requestsPerMinute: number | undefined;
  /** The instance with the most tokens per minute (the worst single loss). */
  largestInstance: string;
  /** What remains if the largest instance fails (N-1); 0 with a single instance. */
  tokensPerMinuteNMinus1: number | undefined;
  requestsPerMinuteNMinus1: number | undefined;
}

function sum(values: (number | undefined)[]): number | undefined {
  return values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, b) => a + (b as number), 0);
}

/** Capacity per deployment name, in config order. */
export function capacityByDeployment(instances: readonly CapacityInstance[]): DeploymentCapacity[] {
  const names = [...new Set(instances.flatMap((i) => i.deployments.map((d) => d.name)))];
  return names.map((deployment) => {
    const perInstance: InstanceShare[] = [];
    let model = "";
    for (const instance of instances) {
      const d = instance.deployments.find((x) => x.name === deployment);
      if (!d) {
        continue;
      }
      model = d.model;
      perInstance.push({
        instance: instance.name,
        priority: instance.priority,
        sku: d.sku,
        capacity: d.capacity,
        ...deploymentThroughput(d.model, d.sku, d.capacity),
      });
    }
    // Largest by tokens per minute; unknown figures count as 0 so a known one wins.
    const largest = perInstance.reduce((a, b) => ((b.tokensPerMinute ?? 0) > (a.tokensPerMinute ?? 0) ? b : a));
    const rest = perInstance.filter((share) => share !== largest);
    return {
      deployment,
      model,
      perInstance,
      tokensPerMinute: sum(perInstance.map((s) => s.tokensPerMinute)),
      requestsPerMinute: sum(perInstance.map((s) => s.requestsPerMinute)),
      largestInstance: largest.instance,
      tokensPerMinuteNMinus1: sum(rest.map((s) => s.tokensPerMinute)),
      requestsPerMinuteNMinus1: sum(rest.map((s) => s.requestsPerMinute)),
    };
  });
}

/** A team as capacity arithmetic sees it. */
export interface TeamBudgetShape {
  name: string;
  /** Deployments it may call; undefined: every deployment. */
  deployments?: readonly string[];
  tokensPerMinute?: number;
}

/** The teams that may call a deployment, against what its pool serves. */
export interface DeploymentTeamLoad {
  deployment: string;
  teams: string[];
  /** Teams without a rate limit (their total is unbounded). */
  unlimitedTeams: string[];
  /** Sum of the limited teams' tokens per minute; each counts in full, since a team may spend it all on one deployment. */
  teamTokensPerMinute: number;
  tokensPerMinute: number | undefined;
  tokensPerMinuteNMinus1: number | undefined;
}

/** Per deployment, the teams allowed to call it and the rate they may draw together. */
export function teamLoad(
  teams: readonly TeamBudgetShape[],
  capacities: readonly DeploymentCapacity[],
): DeploymentTeamLoad[] {
  return capacities.map((capacity) => {
    const allowed = teams.filter((t) => !t.deployments || t.deployments.some((d) => sameName(d, capacity.deployment)));
    return {
      deployment: capacity.deployment,
      teams: allowed.map((t) => t.name),
      unlimitedTeams: allowed.filter((t) => t.tokensPerMinute === undefined).map((t) => t.name),
      teamTokensPerMinute: allowed.reduce((sum, t) => sum + (t.tokensPerMinute ?? 0), 0),
      tokensPerMinute: capacity.tokensPerMinute,
      tokensPerMinuteNMinus1: capacity.tokensPerMinuteNMinus1,
    };
  });
}
