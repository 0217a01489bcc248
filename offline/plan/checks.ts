import { capacityByDeployment, isProvisioned, teamLoad, type DeploymentCapacity } from "../../common/capacity";
import { availabilityOf, AVAILABILITY_SNAPSHOT_DATE, type DeclaredAvailability } from "../../common/modelAvailability";
import type { GatewayModel } from "../../simulator/model";
import type { Topology } from "./topology";

/*
 * The checks only the plan can make, because they need capacity arithmetic over what each pool's
 * members can serve. Everything that can be judged from resource inputs alone is a policy-pack rule
 * (policy-pack/policies.ts), which the plan runs too.
 */

/** Capacity per deployment over the members of the pool that serves it (N-1 = without the largest member). */
export function capacityOf(model: GatewayModel): DeploymentCapacity[] {
  return capacityByDeployment(
    model.pools.flatMap((pool) =>
      pool.members.map((m) => ({
        name: m.name,
        priority: m.priority,
        deployments: [{ name: pool.deployment, model: m.model, sku: m.sku, capacity: m.capacity }],
      })),
    ),
  );
}

/** How far apart capacities per unit of weight may drift inside one priority group before we warn. */
export const CAPACITY_SKEW_LIMIT = 2;

/**
 * Deployments whose model or version the availability snapshot does not know: not an error (the
 * snapshot ages, and the components refuse only what it knows to be unavailable), but worth a look.
 */
export function availabilityWarnings(
  topology: Topology,
  declared: readonly DeclaredAvailability[] = [],
): string[] {
  const warnings: string[] = [];
  for (const instance of topology.instances) {
    for (const d of instance.deployments) {
      // What the stack declares in additionalModelAvailability is known, not a surprise.
      const availability = availabilityOf(d.model, d.version, d.sku, instance.location, declared);
      if (availability.status === "unknown") {
        const what =
          availability.what === "model"
            ? `model ${d.model}`
            : `version ${d.version} of ${d.model} (it knows ${availability.knownVersions.join(", ")})`;
        warnings.push(
          `Deployment ${d.name} on ${instance.name}: Microsoft's availability tables of ${AVAILABILITY_SNAPSHOT_DATE} do not know ${what}; check that Azure offers it in ${instance.location} with SKU ${d.sku} before deploying.`,
        );
      }
    }
  }
  return warnings;
}

const num = (n: number) => n.toLocaleString("en-US");

/**
 * Teams whose rates add up to more than a deployment's pool serves (they cannot all get their limit
 * at once), and a team whose rate alone exceeds what the pool serves without its largest member.
 */
export function teamWarnings(model: GatewayModel): string[] {
  const teams = model.teams ?? [];
  if (teams.length === 0) return [];
  const warnings: string[] = [];
  for (const load of teamLoad(teams, capacityOf(model))) {
    if (load.teams.length === 0 || load.tokensPerMinute === undefined) continue;
    if (load.unlimitedTeams.length > 0 && load.teams.length > 1) {
      warnings.push(
        `Deployment ${load.deployment}: team${load.unlimitedTeams.length > 1 ? "s" : ""} ${load.unlimitedTeams.join(", ")} ha${load.unlimitedTeams.length > 1 ? "ve" : "s"} no token rate limit and can take all of its ${num(load.tokensPerMinute)} TPM from ${load.teams.filter((t) => !load.unlimitedTeams.includes(t)).join(", ") || "the others"}.`,
      );
    } else if (load.teamTokensPerMinute > load.tokensPerMinute) {
      warnings.push(
        `Deployment ${load.deployment} is oversubscribed: teams ${load.teams.join(", ")} may use ${num(load.teamTokensPerMinute)} TPM together, more than its pool serves (${num(load.tokensPerMinute)} TPM); at their limits they share what there is through 429s.`,
      );
    }
    for (const team of teams.filter((t) => load.teams.includes(t.name) && t.tokensPerMinute !== undefined)) {
      if (load.tokensPerMinuteNMinus1 !== undefined && team.tokensPerMinute! > load.tokensPerMinuteNMinus1) {
        warnings.push(
          `Team ${team.name}: its ${num(team.tokensPerMinute!)} TPM exceed what ${load.deployment} serves without its largest instance (${num(load.tokensPerMinuteNMinus1)} TPM, N-1): after one instance is lost the team alone can saturate it.`,
        );
      }
    }
  }
  return warnings;
}

/**
 * Application Insights keeps a custom metric's dimensions only with "custom metrics with dimensions"
 * on (the component's CustomMetricsOptedInType = WithDimensions, which azure-native's Component does
 * not expose: pulumi/pulumi-azure-native#3545). Without it the token metrics lose their split by
 * deployment and subscription.
 */
export const CUSTOM_METRIC_DIMENSIONS_STEP =
  "Token metrics are emitted with dimensions, which Application Insights keeps only with custom metrics with dimensions on; " +
  "azure-native cannot set it. Once after the first `pulumi up`: az resource update --ids $(pulumi stack output appInsightsId) " +
  "--set properties.CustomMetricsOptedInType=WithDimensions (docs/operations.md); the token-usage and team-quota alerts and the workbook's token panels split by those dimensions.";

export function planChecks(
  model: GatewayModel,
  topology?: Topology,
  declared: readonly DeclaredAvailability[] = [],
): string[] {
  const warnings: string[] = topology ? availabilityWarnings(topology, declared) : [];
  if (topology?.monitoring.tokenMetric) {
    warnings.push(CUSTOM_METRIC_DIMENSIONS_STEP);
  }
  for (const capacity of capacityOf(model)) {
    const pool = model.pools.find((p) => p.deployment === capacity.deployment)!;
    const ptu = capacity.perInstance.filter((s) => isProvisioned(s.sku));
    if (ptu.length > 0) {
      const worstPtuPriority = Math.max(...ptu.map((s) => s.priority));
      const spill = capacity.perInstance.some((s) => !isProvisioned(s.sku) && s.priority > worstPtuPriority);
      if (!spill) {
        warnings.push(
          `Deployment ${capacity.deployment}: provisioned (PTU) capacity has no pay-as-you-go spill-over at a lower priority; when the PTUs are saturated clients get 429.`,
        );
      }
    }
    const groups = new Map<number, { instance: string; perWeight: number }[]>();
    for (const share of capacity.perInstance) {
      const weight = pool.members.find((m) => m.name === share.instance)?.weight ?? 1;
      if (share.tokensPerMinute !== undefined && weight > 0) {
        groups.set(share.priority, [
          ...(groups.get(share.priority) ?? []),
          { instance: share.instance, perWeight: share.tokensPerMinute / weight },
        ]);
      }
    }
    for (const [priority, group] of groups) {
      let low = Infinity;
      let high = 0;
      for (const g of group) {
        low = Math.min(low, g.perWeight);
        high = Math.max(high, g.perWeight);
      }
      if (group.length > 1 && high > CAPACITY_SKEW_LIMIT * low) {
        warnings.push(
          `Deployment ${capacity.deployment}, priority ${priority}: capacity per unit of weight differs more than ${CAPACITY_SKEW_LIMIT}x (${group.map((g) => `${g.instance} ${Math.round(g.perWeight)}`).join(", ")} TPM per weight); set weights in proportion to capacity or the small instance is throttled first.`,
        );
      }
    }
  }
  warnings.push(...teamWarnings(model));
  return warnings;
}
