import * as pulumi from "@pulumi/pulumi";
import * as apimanagement from "@pulumi/azure-native/apimanagement";
import type * as authorization from "@pulumi/azure-native/authorization";
import { OPENAI_USER_ROLE_ID } from "../common/apim";
import { backendUrl, circuitBreakerRule, type ParsedGatewayArgs } from "./apimGatewayArgs";
import type { RoutingTable } from "./gatewayRouting";
import { grantRole } from "./roleAssignment";

/*
 * What the gateway calls: for every account, "Cognitive Services OpenAI User" for the gateway's
 * identity; for every (account, hosted deployment), a Single backend with its own circuit breaker; for
 * every deployment, a Pool over exactly the backends that host it; for every account, a backend of
 * its own for stored responses. Created by ApimGateway as its children.
 */

export interface BackendsContext {
  /** Component name of the gateway (children are named from it). */
  name: string;
  parent: pulumi.Resource;
  service: { resourceGroupName: pulumi.Input<string>; serviceName: pulumi.Input<string> };
  principalId: pulumi.Output<string>;
  subscriptionId: pulumi.Input<string>;
}

export interface GatewayBackends {
  roleAssignments: authorization.RoleAssignment[];
  /** One Single backend per (account, hosted deployment), in routing-table order. */
  backends: apimanagement.Backend[];
  /** One Pool backend per deployment, in routing-table order. */
  pools: apimanagement.Backend[];
  /** One backend per account (no breaker), for stored responses, in routing-table order. */
  accountBackends: apimanagement.Backend[];
}

export function createGatewayBackends(
  ctx: BackendsContext,
  parsed: ParsedGatewayArgs,
  table: RoutingTable,
): GatewayBackends {
  const { name, parent, service } = ctx;
  const roleAssignments = parsed.backends.map((account) =>
    grantRole(
      `${name}-openai-user-${account.name}`,
      {
        scope: account.resourceId,
        principalId: ctx.principalId,
        roleId: OPENAI_USER_ROLE_ID,
        subscriptionId: ctx.subscriptionId,
        description: `Lets the API Management gateway "${name}" call Azure OpenAI with its managed identity.`,
      },
      { parent },
    ),
  );

  /** A Single backend calling one account's endpoint, certificate checked. */
  const single = (
    backendId: string,
    account: string,
    text: { title: string; description: string },
    circuitBreaker?: ReturnType<typeof circuitBreakerRule>,
  ) =>
    new apimanagement.Backend(
      `${name}-backend-${backendId}`,
      {
        ...service,
        backendId,
        type: "Single",
        protocol: "http",
        url: pulumi.output(parsed.backends.find((a) => a.name === account)!.endpoint).apply(backendUrl),
        ...text,
        circuitBreaker,
        tls: { validateCertificateChain: true, validateCertificateName: true },
      },
      { parent },
    );

  const breaker = circuitBreakerRule(parsed.circuitBreaker);
  const backends = table.backends.map((b) =>
    single(
      b.backendId,
      b.account,
      {
        title: `Azure OpenAI ${b.account}: ${b.deployment}`,
        description: `Deployment ${b.deployment} on ${b.account} in ${b.location}, priority ${b.priority}, weight ${b.weight}`,
      },
      // Its own breaker: a saturated deployment leaves its pool without taking the account's other deployments along.
      breaker,
    ),
  );

  const pools = table.pools.map(
    (pool) =>
      new apimanagement.Backend(
        `${name}-${pool.poolId}`,
        {
          ...service,
          backendId: pool.poolId,
          type: "Pool",
          title: `Azure OpenAI ${pool.deployment}`,
          description: `Every account hosting ${pool.deployment}. Lower priority numbers are preferred; a lower priority takes traffic only when every breaker above it is open.`,
          pool: {
            services: pool.members.map((member) => ({
              id: backends[table.backends.findIndex((b) => b.backendId === member.backendId)].id,
              priority: member.priority,
              weight: member.weight,
            })),
          },
        },
        { parent },
      ),
  );

  // A stored response can only be served by its account: a breaker opened by that account's
  // throttling would turn a retriable 429 into a 503 without offering anywhere else to go.
  const accountBackends = table.accounts.map((a) =>
    single(a.backendId, a.account, {
      title: `Azure OpenAI ${a.account}`,
      description: `Every deployment of ${a.account} in ${a.location}, for Responses calls only this account can answer. No circuit breaker.`,
    }),
  );

  return { roleAssignments, backends, pools, accountBackends };
}
