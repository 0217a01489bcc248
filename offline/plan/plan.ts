import type { DeploymentCapacity } from "../../common/capacity";
import type { GatewayModel } from "../../simulator/model";
import type { RecordedResource } from "../runtime/recorder";
import { capacityOf, planChecks } from "./checks";
import { gatewayModelOf } from "./gatewayModel";
import { packVerdicts, type PackVerdict } from "./packVerdicts";
import { describeProbe, resilienceProbe, type ResilienceProbe } from "./resilienceProbe";
import { topologyOf, type Topology } from "./topology";

/** Everything the plan knows, as written to plan.json. */
export interface PlanDocument {
  stack: string;
  project: string;
  note: string;
  resourceCounts: Record<string, number>;
  resources: { type: string; name: string; parent: string; dependsOn: string[]; inputs: Record<string, unknown> }[];
  capacity: DeploymentCapacity[];
  /** What clients can call and with which credentials (read back from the API and its policy). */
  clients: { callerAuth: Topology["callerAuth"]; operations: Topology["operations"] };
  /** The resilience model's answer to one standard outage (see resilienceProbe.ts). */
  resilience?: ResilienceProbe;
  /** The policy pack's verdicts on these resources (the rules `pulumi preview --policy-pack` enforces). */
  policyPack: (PackVerdict & { simulated?: string })[];
  /** Checks only the plan can make (capacity, spill-over). */
  warnings: string[];
}

export interface PlanResult {
  plan: PlanDocument;
  topology: Topology;
  model: GatewayModel;
}

export const PLACEHOLDER_NOTE =
  "Offline plan: the real program ran under Pulumi's mock runtime. Values Azure computes (resource ids, " +
  "endpoints, keys, principal ids) and random name suffixes are placeholders; everything else is what " +
  "`pulumi up` would send.";

const logicalName = (urn: string) => urn.split("::").pop() ?? urn;

/** Pack rules whose risk the standard outage simulation puts a number on. */
const SIMULATED_POLICIES = new Set([
  "at-least-two-regions",
  "pool-has-spillover",
  "pool-members-have-circuit-breaker",
  "gateway-retries-pool-members",
]);

export async function buildPlan(
  resources: readonly RecordedResource[],
  stack: string,
  project = "openai-apim",
): Promise<PlanResult> {
  const topology = topologyOf(resources);
  const model = gatewayModelOf(topology);
  const resilience = resilienceProbe(model);
  const sorted = [...resources].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  const resourceCounts: Record<string, number> = {};
  for (const r of sorted) {
    resourceCounts[r.type] = (resourceCounts[r.type] ?? 0) + 1;
  }
  const simulated = resilience && !resilience.skipped ? describeProbe(resilience) : undefined;
  const plan: PlanDocument = {
    stack,
    project,
    note: PLACEHOLDER_NOTE,
    resourceCounts,
    resources: sorted.map((r) => ({
      type: r.type,
      name: r.name,
      parent: r.parent ? logicalName(r.parent) : "",
      dependsOn: r.dependencies.map(logicalName).sort(),
      inputs: r.inputs,
    })),
    capacity: capacityOf(model),
    clients: { callerAuth: topology.callerAuth, operations: topology.operations },
    resilience,
    policyPack: (await packVerdicts(resources)).map((verdict) =>
      simulated && SIMULATED_POLICIES.has(verdict.policy) ? { ...verdict, simulated } : verdict,
    ),
    warnings: planChecks(model, topology),
  };
  return { plan, topology, model };
}
