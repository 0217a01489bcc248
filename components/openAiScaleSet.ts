import * as pulumi from "@pulumi/pulumi";
import * as cognitiveservices from "@pulumi/azure-native/cognitiveservices";
import * as random from "@pulumi/random";
import { z } from "zod";
import {
  checkDeployments,
  checkInstances,
  deploymentsSchema,
  instancesSchema,
  parseArgs,
  resolveInstances,
  type ResolvedInstance,
} from "./config";
import { SUBDOMAIN_MAX_LENGTH, uniqueName } from "./naming";

/** A per-instance change to one deployment's SKU or capacity. */
export interface OpenAiDeploymentOverrideArgs {
  /** Deployment SKU on this instance (e.g. `GlobalProvisionedManaged` in the PTU region). */
  sku?: string;
  /** Capacity on this instance: thousands of tokens per minute, or PTUs for provisioned SKUs. */
  capacity?: number;
}

/** One Azure OpenAI account to create. */
export interface OpenAiInstanceArgs {
  /** Azure region of the account, e.g. `swedencentral`. */
  location: string;
  /** Stable key of the instance, used in resource names. Defaults to the location; needed when two instances share a region. */
  name?: string;
  /** Pool priority, 0-100; lower is preferred. Default 1. */
  priority?: number;
  /** Share of traffic within the priority group, 0-100. Default: equal shares. */
  weight?: number;
  /** Overrides of the SKU or capacity of deployments on this instance, by deployment name. */
  deployments?: { [deploymentName: string]: OpenAiDeploymentOverrideArgs };
}

/** A model deployment created on every instance. */
export interface OpenAiDeploymentArgs {
  /** Deployment id clients put in the URL, e.g. `gpt-4o-mini`. */
  name: string;
  /** Model name, e.g. `gpt-4o-mini`. */
  model: string;
  /** Model version, e.g. `2024-07-18`. */
  version: string;
  /** One of Standard, GlobalStandard, DataZoneStandard, ProvisionedManaged, GlobalProvisionedManaged, DataZoneProvisionedManaged. Default Standard. */
  sku?: string;
  /** Thousands of tokens per minute (PTUs for provisioned SKUs), per instance. Default 1. */
  capacity?: number;
  /** One of OnceCurrentVersionExpired, OnceNewDefaultVersionAvailable, NoAutoUpgrade. Default OnceCurrentVersionExpired. */
  versionUpgradeOption?: string;
}

export interface OpenAiScaleSetArgs {
  /** Resource group that holds the accounts. */
  resourceGroupName: pulumi.Input<string>;
  /** The accounts to create, 1 to 30 (an APIM pool's member limit). */
  instances: OpenAiInstanceArgs[];
  /** Model deployments created on every account. */
  deployments: OpenAiDeploymentArgs[];
  /** Turn off API-key authentication so only Entra ID tokens work. Default true. */
  disableLocalAuth?: boolean;
  /** `Enabled` or `Disabled`. Default `Enabled`: APIM reaches the accounts over their public endpoints. */
  publicNetworkAccess?: string;
  /** Tags applied to every account and deployment. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Region names to accept in addition to the built-in list (for regions newer than this library). */
  additionalRegions?: string[];
}

/** One OpenAI account as the gateway's backend pool sees it; what `ApimGateway` takes as `backends`. */
export interface OpenAiBackend {
  /** Stable key of the instance; names the APIM backend. */
  name: string;
  /** Azure region of the account. */
  location: string;
  /** The account's endpoint, e.g. `https://<subdomain>.openai.azure.com/`. */
  endpoint: pulumi.Output<string>;
  /** ARM id of the account; the scope of the gateway's role assignment. */
  resourceId: pulumi.Output<string>;
  /** Pool priority, 0-100; lower is preferred. */
  priority: number;
  /** Pool weight within the priority group, 0-100. */
  weight: number;
}

function argsSchema(additionalRegions: readonly string[]) {
  return z
    .object({
      instances: instancesSchema(additionalRegions),
      deployments: deploymentsSchema,
      disableLocalAuth: z.boolean({ error: "true or false" }).default(true),
      publicNetworkAccess: z.enum(["Enabled", "Disabled"], { error: "one of Enabled, Disabled" }).default("Enabled"),
    })
    .superRefine((args, ctx) => {
      checkInstances(args.instances, args.deployments, ctx);
      checkDeployments(args.deployments, ctx);
    });
}

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
 * N Azure OpenAI accounts, each with the same model deployments, ready to sit behind a gateway.
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
    const parsed = parseArgs("OpenAiScaleSet", name, argsSchema(args.additionalRegions ?? []), args);
    super("openai-apim:index:OpenAiScaleSet", name, {}, opts);
    const instances: ResolvedInstance[] = resolveInstances(parsed.instances, parsed.deployments);

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
          resourceGroupName: args.resourceGroupName,
          accountName,
          location: instance.location,
          kind: "OpenAI",
          sku: { name: "S0" },
          properties: {
            // Entra ID tokens are only accepted on a custom subdomain endpoint.
            customSubDomainName: accountName,
            disableLocalAuth: parsed.disableLocalAuth,
            publicNetworkAccess: parsed.publicNetworkAccess,
          },
          tags: args.tags,
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
                resourceGroupName: args.resourceGroupName,
                accountName: account.name,
                deploymentName: deployment.name,
                sku: { name: deployment.sku, capacity: deployment.capacity },
                properties: {
                  model: { format: "OpenAI", name: deployment.model, version: deployment.version },
                  versionUpgradeOption: deployment.versionUpgradeOption,
                },
                tags: args.tags,
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
      });
    }

    this.registerOutputs({ accounts: this.accounts, deployments: this.deployments, backends: this.backends });
  }
}
