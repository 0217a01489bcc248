import * as pulumi from "@pulumi/pulumi";
import * as cognitiveservices from "@pulumi/azure-native/cognitiveservices";
import * as random from "@pulumi/random";
import { deploymentThroughput } from "../common/capacity";
import { SUBDOMAIN_MAX_LENGTH, uniqueName } from "../common/naming";
import { parseArgs } from "../common/validation";
import {
  resolveInstances,
  scaleSetArgsSchema,
  type OpenAiBackend,
  type OpenAiScaleSetArgs,
} from "./openAiScaleSetArgs";

/**
 * Creates each item after the previous one. Azure rejects a second deployment write on an account
 * while one is running (`RequestConflict: Another operation is being performed on the parent
 * resource`), so deployments of one account are chained; different accounts stay parallel.
 */
export function createSequentially<T extends pulumi.Resource, I>(
  items: readonly I[],
  create: (item: I, options: { dependsOn: pulumi.Resource[] }) => T,
): T[] {
  const created: T[] = [];
  for (const item of items) {
    const previous = created[created.length - 1];
    created.push(create(item, { dependsOn: previous ? [previous] : [] }));
  }
  return created;
}

/**
 * N Azure OpenAI accounts, each with the model deployments its region hosts, ready to sit behind a gateway.
 */
export class OpenAiScaleSet extends pulumi.ComponentResource {
  /** The accounts, in instance order. */
  public readonly accounts: cognitiveservices.Account[];
  /** Every model deployment, account by account. */
  public readonly deployments: cognitiveservices.Deployment[];
  /** One entry per instance, in the shape `ApimGateway` takes. */
  public readonly backends: OpenAiBackend[];

  constructor(name: string, args: OpenAiScaleSetArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super() registers the component: bad args must not register anything.
    const parsed = parseArgs("OpenAiScaleSet", name, scaleSetArgsSchema(args), args);
    super("openai-apim:index:OpenAiScaleSet", name, {}, opts);
    const instances = resolveInstances(parsed.instances, parsed.deployments);

    // Kept in state, so every run reuses it; only a new stack gets a new one. Renaming this child
    // (or any below) needs an alias, or Pulumi replaces it and every account name changes.
    const suffix = new random.RandomString(
      `${name}-suffix`,
      { length: 6, special: false, upper: false, numeric: true, lower: true },
      { parent: this },
    );

    this.accounts = [];
    this.deployments = [];
    this.backends = [];
    for (const instance of instances) {
      const accountName = suffix.result.apply((s) => uniqueName(name, instance.name, s, SUBDOMAIN_MAX_LENGTH));
      const account = new cognitiveservices.Account(
        `${name}-${instance.name}`,
        {
          resourceGroupName: parsed.resourceGroupName,
          accountName,
          location: instance.location,
          kind: "OpenAI",
          sku: { name: "S0" },
          properties: {
            // Entra ID tokens are only accepted on a custom subdomain endpoint.
            customSubDomainName: accountName,
            disableLocalAuth: parsed.disableLocalAuth,
            publicNetworkAccess: parsed.publicNetworkAccess,
            // Closed: nothing reaches the account but its private endpoints. No trusted-service bypass:
            // APIM is not one of the trusted services (cognitive-services-virtual-networks.md).
            ...(parsed.publicNetworkAccess === "Disabled"
              ? { networkAcls: { defaultAction: "Deny", bypass: "None", ipRules: [], virtualNetworkRules: [] } }
              : {}),
          },
          tags: parsed.tags,
        },
        { parent: this },
      );
      this.accounts.push(account);

      this.deployments.push(
        ...createSequentially(
          instance.deployments,
          (deployment, options) =>
            new cognitiveservices.Deployment(
              `${name}-${instance.name}-${deployment.name}`,
              {
                resourceGroupName: parsed.resourceGroupName,
                accountName: account.name,
                deploymentName: deployment.name,
                sku: { name: deployment.sku, capacity: deployment.capacity },
                properties: {
                  model: { format: "OpenAI", name: deployment.model, version: deployment.version },
                  versionUpgradeOption: deployment.versionUpgradeOption,
                },
                tags: parsed.tags,
              },
              { parent: this, dependsOn: options.dependsOn },
            ),
        ),
      );

      this.backends.push({
        name: instance.name,
        location: instance.location,
        endpoint: account.properties.endpoint,
        resourceId: account.id,
        priority: instance.priority,
        weight: instance.weight,
        deployments: instance.deployments.map((d) => d.name),
        tokensPerMinute: Object.fromEntries(
          instance.deployments.flatMap((d) => {
            const { tokensPerMinute } = deploymentThroughput(d.model, d.sku, d.capacity);
            return tokensPerMinute === undefined ? [] : [[d.name, tokensPerMinute]];
          }),
        ),
        ...(instance.nearGateways ? { nearGateways: instance.nearGateways } : {}),
      });
    }

    this.registerOutputs({ accounts: this.accounts, deployments: this.deployments, backends: this.backends });
  }
}
