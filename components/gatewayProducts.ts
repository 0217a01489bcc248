import * as pulumi from "@pulumi/pulumi";
import * as apimanagement from "@pulumi/azure-native/apimanagement";
import { renderTeamProductPolicy, teamProductId, type PolicyTeam } from "../policies/teamPolicy";

/** APIM entity ids of the shared product and subscription (without teams). */
export const PRODUCT_ID = "openai";
export const SUBSCRIPTION_ID = "openai-default";

/*
 * Products and subscriptions: who holds a key. Without teams, one product and one subscription for
 * everyone. With teams, what a team gets on the gateway: a product (subscription required, subscriptions only by approval,
 * so nobody signs up to a team on their own), the API in it, the team's rules as the product's policy,
 * and one subscription whose key the stack hands to the team. Created by ApimGateway as its children.
 */

export interface ProductsContext {
  /** Component name of the gateway (children are named from it). */
  name: string;
  parent: pulumi.Resource;
  service: { resourceGroupName: pulumi.Input<string>; serviceName: pulumi.Input<string> };
  api: apimanagement.Api;
}

export interface GatewayTeam {
  product: apimanagement.Product;
  subscription: apimanagement.Subscription;
  policy: apimanagement.ProductPolicy;
  /** Primary key of the team's subscription (secret). */
  key: pulumi.Output<string>;
}

/** The team's display name as given, or its id. */
export interface TeamDefinition extends PolicyTeam {
  displayName?: string;
}

export function createTeam(ctx: ProductsContext, team: TeamDefinition): GatewayTeam {
  const { name, parent, service } = ctx;
  const productId = teamProductId(team.name);
  const title = team.displayName ?? team.name;
  const product = new apimanagement.Product(
    `${name}-team-${team.name}`,
    {
      ...service,
      productId,
      displayName: title,
      description: `Azure OpenAI for team ${title}: ${team.deployments ? team.deployments.join(", ") : "every deployment"}${team.tokensPerMinute ? `, ${team.tokensPerMinute} tokens per minute` : ""}${team.tokenQuota ? `, ${team.tokenQuota.tokens} tokens ${team.tokenQuota.period.toLowerCase()}` : ""}.`,
      subscriptionRequired: true,
      // Subscriptions need an administrator's approval: the team's one subscription is created here.
      // A limit goes with it: approval without one is refused by some management clients
      // (terraform-provider-azurerm #5035), and one per user is all a team gets anyway.
      approvalRequired: true,
      subscriptionsLimit: 1,
      state: "published",
    },
    { parent },
  );
  new apimanagement.ProductApi(
    `${name}-team-${team.name}-api`,
    { ...service, productId: product.name, apiId: ctx.api.name },
    { parent },
  );
  const policy = new apimanagement.ProductPolicy(
    `${name}-team-${team.name}-policy`,
    { ...service, productId: product.name, policyId: "policy", format: "rawxml", value: renderTeamProductPolicy(team) },
    { parent },
  );
  const subscription = new apimanagement.Subscription(
    `${name}-team-${team.name}-subscription`,
    {
      ...service,
      sid: productId,
      displayName: `${title} (Azure OpenAI)`,
      scope: pulumi.interpolate`/products/${product.name}`,
      state: "active",
      allowTracing: false,
    },
    { parent, additionalSecretOutputs: ["primaryKey", "secondaryKey"] },
  );
  return { product, subscription, policy, key: subscriptionKeyOf(name, service, subscription, parent) };
}

/**
 * A subscription's primary key. APIM's GET leaves keys out; they come from listSecrets, after the
 * subscription exists.
 */
export function subscriptionKeyOf(
  name: string,
  service: ProductsContext["service"],
  subscription: apimanagement.Subscription,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const secrets = apimanagement.listSubscriptionSecretsOutput({ ...service, sid: subscription.name }, { parent });
  return pulumi.secret(
    pulumi.all([secrets, subscription.name]).apply(([s, sid]) => {
      if (!s.primaryKey) {
        throw new Error(`ApimGateway "${name}": APIM returned no primary key for subscription ${sid}`);
      }
      return s.primaryKey;
    }),
  );
}

/** The product everyone subscribes to when there are no teams, with the API and one subscription. */
export function createDefaultProduct(ctx: ProductsContext) {
  const { name, parent, service } = ctx;
  const product = new apimanagement.Product(
    `${name}-product`,
    {
      ...service,
      productId: PRODUCT_ID,
      displayName: "Azure OpenAI",
      description: "Access to the load-balanced Azure OpenAI API.",
      subscriptionRequired: true,
      approvalRequired: false,
      state: "published",
    },
    { parent },
  );
  new apimanagement.ProductApi(
    `${name}-product-api`,
    { ...service, productId: product.name, apiId: ctx.api.name },
    { parent },
  );
  const subscription = new apimanagement.Subscription(
    `${name}-subscription`,
    {
      ...service,
      sid: SUBSCRIPTION_ID,
      displayName: "Default Azure OpenAI subscription",
      scope: pulumi.interpolate`/products/${product.name}`,
      state: "active",
      allowTracing: false,
    },
    { parent, additionalSecretOutputs: ["primaryKey", "secondaryKey"] },
  );
  return { product, subscription, key: subscriptionKeyOf(name, service, subscription, parent) };
}
