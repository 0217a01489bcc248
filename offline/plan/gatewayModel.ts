import { parseIsoDuration } from "../../common/duration";
import type { GatewayModel, ModelMember, ModelPool } from "../../simulator/model";
import type { PlannedBreaker, Topology } from "./topology";

/*
 * The simulator's view of a planned gateway, read from the registered resources: every deployment
 * name, the pool that serves it and that pool's members with the capacity each one's account has
 * for it, the breaker rule and the retry the policy renders.
 */

export function breakerRuleOf(breaker: PlannedBreaker | undefined): GatewayModel["breaker"] {
  if (!breaker) return undefined;
  return {
    failureCount: breaker.failureCount,
    failurePercentage: breaker.failurePercentage,
    intervalMs: parseIsoDuration(breaker.interval) ?? 60_000,
    tripDurationMs: parseIsoDuration(breaker.tripDuration) ?? 60_000,
    statusRanges: breaker.statusCodes,
    acceptRetryAfter: breaker.acceptRetryAfter,
  };
}

/** A gateway region's own member priorities, for the deployments whose pool differs there. */
function regionalPriorities(topology: Topology, region: string): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {};
  for (const route of topology.routes) {
    const poolId = route.byRegion?.[region];
    const pool = poolId && topology.pools.find((p) => p.backendId === poolId);
    if (!pool) continue;
    const byName: Record<string, number> = {};
    for (const member of pool.members) {
      const backend = topology.backends.find((b) => b.backendId === member.backendId);
      if (backend?.instance) byName[backend.instance.name] = member.priority;
    }
    const deployment = backendsDeployment(topology, route.deployment);
    result[deployment] = byName;
  }
  return result;
}

/** The deployment name as spelt in the stack (the policy compares it in lower case). */
function backendsDeployment(topology: Topology, lower: string): string {
  for (const instance of topology.instances) {
    const hosted = instance.deployments.find((d) => d.name.toLowerCase() === lower);
    if (hosted) return hosted.name;
  }
  return lower;
}

/**
 * Every route of the policy, with the members of the pool it sends to and what each member's account
 * has deployed under that name (matched case-insensitively, as Azure matches deployment names).
 */
export function gatewayModelOf(topology: Topology): GatewayModel {
  const pools: ModelPool[] = [];
  for (const route of topology.routes) {
    const pool = topology.pools.find((p) => p.backendId === route.poolId);
    const members: ModelMember[] = [];
    let deployment = route.deployment;
    for (const member of pool?.members ?? []) {
      const backend = topology.backends.find((b) => b.backendId === member.backendId);
      const hosted = backend?.instance?.deployments.find((d) => d.name.toLowerCase() === route.deployment);
      if (!backend?.instance || !hosted) continue;
      deployment = hosted.name;
      members.push({
        name: backend.instance.name,
        location: backend.instance.location,
        priority: member.priority,
        weight: member.weight,
        model: hosted.model,
        sku: hosted.sku,
        capacity: hosted.capacity,
      });
    }
    if (members.length > 0) pools.push({ deployment, members });
  }
  const breaker = topology.backends.find((b) => b.breaker)?.breaker;
  return {
    pools,
    breaker: breakerRuleOf(breaker),
    retry: topology.retry ?? { count: 0, intervalSeconds: 0, firstFastRetry: false, statusCodes: [] },
    poolRetryAfterSeconds: topology.fallbackRetryAfterSeconds ?? 60,
    ...(topology.backendTimeoutSeconds !== undefined ? { backendTimeoutSeconds: topology.backendTimeoutSeconds } : {}),
    ...(topology.gatewayRegions.length
      ? {
          regions: topology.gatewayRegions.map((region, i) => ({
            name: region.location,
            units: region.units,
            ...(region.zones ? { zones: region.zones } : {}),
            ...(i > 0 ? { priorities: regionalPriorities(topology, region.location) } : {}),
          })),
        }
      : {}),
    ...(topology.teams.length
      ? {
          teams: topology.teams.map((t) => ({
            name: t.name,
            deployments: t.deployments,
            tokensPerMinute: t.tokensPerMinute,
            tokenQuota: t.tokenQuota,
          })),
        }
      : {}),
  };
}
