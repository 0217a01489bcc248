import type { DeploymentCapacity } from "../../common/capacity";
import type { DeclaredAvailability } from "../../common/modelAvailability";
import type { GatewayModel } from "../../simulator/model";
import type { RecordedResource } from "../runtime/recorder";
import { capacityOf, planChecks } from "./checks";
import { gatewayModelOf } from "./gatewayModel";
import { operationsOf, receivers, type PlannedAlert, type PlannedOperations } from "./operations";
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
  /** Alert rules (what, threshold, window, who is told) and the workbook's panels. */
  operations: {
    alerts: (Omit<PlannedAlert, "query" | "actionGroups"> & { tells: string })[];
    workbookPanels: string[];
  };
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
  operations: PlannedOperations;
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

/** What plan.json shows in place of an input the program sends as a secret. */
export const SECRET_MARK = "[secret]";

/**
 * The inputs with every value sent as a secret (a webhook URL, a connection string) replaced by
 * SECRET_MARK: plan.json is a CI artifact and feeds a pull-request comment.
 */
export function redactSecrets(inputs: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  if (paths.length === 0) return inputs;
  const copy = structuredClone(inputs);
  for (const path of paths) {
    const keys = path.split(".");
    let node: unknown = copy;
    for (const key of keys.slice(0, -1)) {
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    }
    const last = keys[keys.length - 1];
    if (node !== null && typeof node === "object" && last in node) {
      (node as Record<string, unknown>)[last] = SECRET_MARK;
    }
  }
  return copy;
}

export async function buildPlan(
  resources: readonly RecordedResource[],
  stack: string,
  project = "openai-apim",
  /** The stack's additionalModelAvailability: models it declares are not warned about. */
  declaredAvailability: readonly DeclaredAvailability[] = [],
): Promise<PlanResult> {
  const topology = topologyOf(resources);
  const operations = operationsOf(resources);
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
      inputs: redactSecrets(r.inputs, r.secretInputs),
    })),
    capacity: capacityOf(model),
    clients: { callerAuth: topology.callerAuth, operations: topology.operations },
    operations: {
      alerts: operations.alerts.map(({ query: _query, actionGroups: _groups, ...alert }) => ({
        ...alert,
        tells: receivers(operations, { ...alert, actionGroups: _groups }),
      })),
      workbookPanels: operations.workbook?.panels.map((p) => p.title) ?? [],
    },
    resilience,
    policyPack: (await packVerdicts(resources)).map((verdict) =>
      simulated && SIMULATED_POLICIES.has(verdict.policy) ? { ...verdict, simulated } : verdict,
    ),
    warnings: planChecks(model, topology, declaredAvailability),
  };
  return { plan, topology, model, operations };
}
