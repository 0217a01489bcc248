import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { deterministicGuid } from "../common/naming";

export interface RoleGrant {
  /** ARM id the role is granted on. */
  scope: pulumi.Input<string>;
  /** Object id of the service principal (here: APIM's system-assigned identity). */
  principalId: pulumi.Input<string>;
  /** Built-in role definition GUID. */
  roleId: string;
  /** Subscription whose role definitions path names the role, when the scope does not name one. */
  subscriptionId: pulumi.Input<string>;
  description: string;
}

/**
 * A role assignment whose name is derived from scope, principal and role: the same grant gets the
 * same name on every run, so a re-run updates it instead of creating a duplicate assignment.
 */
export function grantRole(
  name: string,
  grant: RoleGrant,
  opts: pulumi.CustomResourceOptions,
): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    name,
    {
      scope: grant.scope,
      principalId: grant.principalId,
      principalType: "ServicePrincipal",
      // Named in the scope's own subscription: an account or component of your own may live in
      // another subscription than the one deploying, and the assignment is created in the scope's.
      roleDefinitionId: pulumi.all([grant.scope, grant.subscriptionId]).apply(
        ([scope, subscription]) =>
          // Lower case, as Azure reports subscription ids: a GUID typed in capitals must not look
          // like a change (a role assignment cannot be updated, only replaced).
          `/subscriptions/${(/^\/subscriptions\/([^/]+)\//i.exec(scope)?.[1] ?? subscription).toLowerCase()}/providers/Microsoft.Authorization/roleDefinitions/${grant.roleId}`,
      ),
      roleAssignmentName: pulumi
        .all([grant.scope, grant.principalId])
        .apply(([scope, principal]) => deterministicGuid(scope, principal, grant.roleId)),
      description: grant.description,
    },
    opts,
  );
}
