import type {
  EnforcementLevel,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { policies as packPolicies } from "../../policy-pack/policies";
import type { RecordedResource } from "../runtime/recorder";

/*
 * The policy pack's verdicts on a recorded run: the same policy objects `pulumi preview
 * --policy-pack policy-pack` loads, handed the registrations the way the policy engine presents them
 * (props are the inputs; dependencies resolved to resources). The plan shows these instead of
 * keeping its own copies of the rules.
 */

export type PackPolicy = ResourceValidationPolicy | StackValidationPolicy;

export interface PackVerdict {
  policy: string;
  enforcementLevel: EnforcementLevel;
  message: string;
  /** Logical name of the resource the violation is about, when the policy names one. */
  resource?: string;
}

const unused = (what: string) => () => {
  throw new Error(`the offline policy run does not provide ${what}; no policy of this pack uses it`);
};

/** The registrations as the policy engine presents them to a pack. */
export function policyResources(recorded: readonly RecordedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const resources = recorded.map((r) => {
    const resource: PolicyResource = {
      type: r.type,
      props: structuredClone(r.inputs),
      urn: r.urn,
      name: r.name,
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.additionalSecretOutputs,
        parent: r.parent || undefined,
      },
      dependencies: [],
      propertyDependencies: {},
      isType: unused("isType"),
      asType: unused("asType"),
    };
    byUrn.set(r.urn, resource);
    return resource;
  });
  recorded.forEach((r, i) => {
    const known = (urns: readonly string[]) => urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => !!d);
    resources[i].parent = byUrn.get(r.parent);
    resources[i].dependencies = known(r.dependencies);
    resources[i].propertyDependencies = Object.fromEntries(
      Object.entries(r.propertyDependencies).map(([key, urns]) => [key, known(urns)]),
    );
  });
  return resources;
}

/** Runs one policy over a set of resources and returns its violations. */
export async function evaluatePolicy(policy: PackPolicy, resources: readonly PolicyResource[]): Promise<PackVerdict[]> {
  const found: PackVerdict[] = [];
  const level = policy.enforcementLevel ?? "advisory";
  const nameOf = (urn?: string) => resources.find((r) => r.urn === urn)?.name;
  const base = { stackTags: new Map<string, string>(), getConfig: unused("getConfig"), notApplicable: unused("notApplicable") };
  if ("validateStack" in policy) {
    const args: StackValidationArgs = { resources: [...resources], ...base };
    await policy.validateStack(args, (message, urn) =>
      found.push({ policy: policy.name, enforcementLevel: level, message, resource: nameOf(urn) }),
    );
    return found;
  }
  const validators = [policy.validateResource ?? []].flat();
  for (const r of resources) {
    const args: ResourceValidationArgs = {
      type: r.type,
      props: r.props,
      urn: r.urn,
      name: r.name,
      opts: r.opts,
      ...base,
      isType: unused("isType"),
      asType: unused("asType"),
    };
    for (const validate of validators) {
      await validate(args, (message, urn) =>
        found.push({ policy: policy.name, enforcementLevel: level, message, resource: nameOf(urn) ?? r.name }),
      );
    }
  }
  return found;
}

/** Every policy of the pack over a recorded run, mandatory violations first, in the pack's order. */
export async function packVerdicts(
  recorded: readonly RecordedResource[],
  policies: readonly PackPolicy[] = packPolicies,
): Promise<PackVerdict[]> {
  const resources = policyResources(recorded);
  const verdicts = (await Promise.all(policies.map((p) => evaluatePolicy(p, resources)))).flat();
  return [
    ...verdicts.filter((v) => v.enforcementLevel === "mandatory"),
    ...verdicts.filter((v) => v.enforcementLevel !== "mandatory"),
  ];
}
