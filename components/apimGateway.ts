import * as pulumi from "@pulumi/pulumi";
import * as apimanagement from "@pulumi/azure-native/apimanagement";
import type * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as authorization from "@pulumi/azure-native/authorization";
import type * as network from "@pulumi/azure-native/network";
import * as random from "@pulumi/random";
import { CLASSIC_TIERS } from "../common/apim";
import { shortRegionName } from "../common/regions";
import { APIM_NAME_MAX_LENGTH, dnsLabel, uniqueName } from "../common/naming";
import { parseArgs } from "../common/validation";
import { inferenceSpec, prepareSpec, routedOperations } from "../openapi/spec";
import { fallbackRetryAfterSeconds, renderApiPolicy, type RetryPolicy } from "../policies/apiPolicy";
import { clientEndpoint, gatewayArgsSchema, resolveRetryPolicy, type ApimGatewayArgs } from "./apimGatewayArgs";
import { createGatewayBackends } from "./gatewayBackends";
import { createGatewayAlerts, type GatewayAlerts } from "./gatewayAlerts";
import { alertsOn, alertsSchema, deploymentCapacity } from "./gatewayAlertsArgs";
import { createGatewayMonitoring, TOKEN_METRIC_NAMESPACE } from "./gatewayMonitoring";
import { createGatewayWorkbook } from "./gatewayWorkbook";
import { createDefaultProduct, createTeam, type GatewayTeam } from "./gatewayProducts";
import { createPrivateEndpoints, type AccountPrivateEndpoint } from "./gatewayPrivateEndpoints";
import { gatewayPlacement } from "./gatewayPlacement";
import { gatewayRegionsOf } from "./gatewayRegionsArgs";
import { poolAccounts, routingTable, type RoutingTable } from "./gatewayRouting";

/** APIM on a classic tier takes 30-90 minutes to create; Pulumi must not give up first. */
export const APIM_TIMEOUTS: pulumi.CustomTimeouts = { create: "3h", update: "3h", delete: "3h" };

/** TLS 1.0/1.1 and SSL 3.0 off, client and backend side; classic tiers only (v2 tiers refuse changes). */
const CLASSIC_TLS_HARDENING: Record<string, string> = Object.fromEntries(
  [
    "Protocols.Tls10",
    "Protocols.Tls11",
    "Protocols.Ssl30",
    "Backend.Protocols.Tls10",
    "Backend.Protocols.Tls11",
    "Backend.Protocols.Ssl30",
  ].map((setting) => [`Microsoft.WindowsAzure.ApiManagement.Gateway.Security.${setting}`, "False"]),
);

/**
 * azure-native fills in `enableClientCertificate: false` whenever it is not set, and Azure refuses
 * exactly that on the Developer tier ("Setting EnableClientCertificate flag to false is not supported
 * for Developer SKU": pulumi/pulumi-azure-native#1741, #1865). ARM documents the flag for the
 * Consumption tier only and this gateway never asks for client certificates, so it is left out of
 * the request on every tier and Azure keeps its own default.
 */
export const omitClientCertificateFlag: pulumi.ResourceTransformation = (args) => {
  if (args.type !== "azure-native:apimanagement:ApiManagementService") {
    return undefined;
  }
  const props = { ...args.props };
  delete props.enableClientCertificate;
  return { props, opts: args.opts };
};

/** APIM entity ids inside the gateway's own service. */
export const API_ID = "openai";

/**
 * API Management in front of Azure OpenAI accounts: a circuit-breaker backend per (account, hosted
 * deployment), a priority/weight pool per deployment over the accounts that host it, the inference API
 * with a keyless (managed identity) policy that routes each request to its deployment's pool, and a
 * product with one subscription.
 */
export class ApimGateway extends pulumi.ComponentResource {
  /** The API Management instance. */
  public readonly service: apimanagement.ApiManagementService;
  /** One Single backend per (account, hosted deployment), each with its own circuit breaker. */
  public readonly backends: apimanagement.Backend[];
  /** One Pool backend per deployment over the backends that host it; the API policy routes to them. */
  public readonly pools: apimanagement.Backend[];
  /** One backend per account, without a breaker, for stored responses (the Responses API). */
  public readonly accountBackends: apimanagement.Backend[];
  /** Which backends and pools exist and what each pool holds. */
  public readonly routing: RoutingTable;
  /** With `network.privateEndpoints`: each account's private endpoint and its DNS registration, per gateway region. */
  public readonly privateEndpoints: AccountPrivateEndpoint[];
  /** Public IPs of injected locations with zones (Azure requires one there). */
  public readonly publicIps: network.PublicIPAddress[];
  /** Gateway region -> its regional gateway URL (`https://<name>-<region>-01.regional.azure-api.net`). */
  public readonly regionalGatewayUrls: pulumi.Output<Record<string, string>>;
  /** "Cognitive Services OpenAI User" for the gateway identity on each account. */
  public readonly roleAssignments: authorization.RoleAssignment[];
  /** The inference API. */
  public readonly api: apimanagement.Api;
  /** The API policy (managed identity, pool routing, retries). */
  public readonly apiPolicy: apimanagement.ApiPolicy;
  /** The product clients subscribe to (undefined with teams, or with subscription keys off). */
  public readonly product?: apimanagement.Product;
  /** The default subscription (undefined with teams, or with subscription keys off). */
  public readonly subscription?: apimanagement.Subscription;
  /** Per team (subscription keys on): its product, product policy and subscription, in args order. */
  public readonly teams: GatewayTeam[];
  /** Team name -> primary key of the team's subscription (secret); empty without teams. */
  public readonly teamSubscriptionKeys: pulumi.Output<Record<string, string>>;
  /** Base URL of the gateway, e.g. `https://<name>.azure-api.net`. */
  public readonly gatewayUrl: pulumi.Output<string>;
  /**
   * What a client sets as its Azure endpoint (`azure_endpoint` in Python, `endpoint` in TypeScript):
   * the gateway URL plus the API path without its final `openai`, which the SDKs append themselves.
   * `https://<name>.azure-api.net` with the default path.
   */
  public readonly endpoint: pulumi.Output<string>;
  /** Primary key of the default subscription (secret; undefined with teams, or with subscription keys off). */
  public readonly subscriptionKey: pulumi.Output<string | undefined>;
  /** Principal id of the gateway's system-assigned identity. */
  public readonly principalId: pulumi.Output<string>;
  /** The API policy as deployed. */
  public readonly policyXml: pulumi.Output<string>;
  /** The retry the policy performs (what the resilience simulator models). */
  public readonly retryPolicy: pulumi.Output<RetryPolicy>;
  /** Log Analytics workspace receiving APIM and OpenAI logs (undefined with monitoring off). */
  public readonly workspaceId: pulumi.Output<string | undefined>;
  /** Application Insights component id (undefined with monitoring off). */
  public readonly appInsightsId: pulumi.Output<string | undefined>;
  /** Application Insights component name (undefined with monitoring off). */
  public readonly appInsightsName: pulumi.Output<string | undefined>;
  /** The operations workbook over the workspace (undefined with monitoring off). */
  public readonly workbook?: applicationinsights.Workbook;
  /** The action group and alert rules (undefined with monitoring or alerts off). */
  public readonly alerts?: GatewayAlerts;
  /** Application Insights connection string, secret (undefined with monitoring off). */
  public readonly appInsightsConnectionString: pulumi.Output<string | undefined>;

  constructor(name: string, args: ApimGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super() registers the component: bad args must not register anything.
    const parsed = parseArgs("ApimGateway", name, gatewayArgsSchema(args), args);
    super("openai-apim:index:ApimGateway", name, {}, opts);

    // Kept in state: every run reuses it. Renaming this child (or any below) needs an alias, or
    // Pulumi replaces it, and a new APIM name means a new 30-90 minute instance.
    const suffix = new random.RandomString(
      `${name}-suffix`,
      { length: 6, special: false, upper: false, numeric: true, lower: true },
      { parent: this },
    );
    // APIM names must start with a letter.
    const prefix = /^[a-z]/.test(dnsLabel(name, 1)) ? name : `apim-${name}`;
    const serviceName = suffix.result.apply((s) => uniqueName(prefix, "", s, APIM_NAME_MAX_LENGTH));

    const placement = gatewayPlacement(
      { name, parent: this, resourceGroupName: parsed.resourceGroupName, serviceName },
      parsed,
    );
    this.publicIps = placement.publicIps;
    this.service = new apimanagement.ApiManagementService(
      `${name}-service`,
      {
        resourceGroupName: parsed.resourceGroupName,
        serviceName,
        location: parsed.location,
        sku: { name: parsed.sku.name, capacity: parsed.sku.capacity },
        identity: { type: "SystemAssigned" },
        publisherEmail: parsed.publisherEmail,
        publisherName: parsed.publisherName,
        customProperties: CLASSIC_TIERS.includes(parsed.sku.name) ? CLASSIC_TLS_HARDENING : undefined,
        // Zones, more regions, the network (gatewayPlacement.ts).
        ...placement.serviceArgs,
        tags: parsed.tags,
      },
      { parent: this, customTimeouts: APIM_TIMEOUTS, transformations: [omitClientCertificateFlag] },
    );
    const service = { resourceGroupName: parsed.resourceGroupName, serviceName: this.service.name };
    this.principalId = this.service.identity.apply((identity) => {
      if (!identity?.principalId) {
        throw new Error(`ApimGateway "${name}": the APIM instance reported no system-assigned identity`);
      }
      return identity.principalId;
    });

    const client = authorization.getClientConfigOutput({ parent: this });

    // One backend per (account, hosted deployment) and one pool per deployment (gatewayRouting.ts).
    // With several gateway regions, each orders the accounts nearest first (gatewayRouting.ts).
    const gatewayRegions = parsed.additionalLocations?.length
      ? gatewayRegionsOf(parsed.location, parsed.additionalLocations)
      : [];
    this.routing = routingTable(parsed.backends, gatewayRegions);
    const created = createGatewayBackends(
      { name, parent: this, service, principalId: this.principalId, subscriptionId: client.subscriptionId },
      parsed,
      this.routing,
    );
    this.roleAssignments = created.roleAssignments;
    // A private endpoint per account in every gateway region's network, so each region reaches every
    // account by itself.
    const endpointRegions = [
      { suffix: "", location: parsed.location, endpoints: parsed.network?.privateEndpoints },
      ...(parsed.network?.additionalLocations ?? []).map((l) => ({
        suffix: `-${l.location}`,
        location: l.location,
        endpoints: l.privateEndpoints,
      })),
    ];
    this.privateEndpoints = endpointRegions.flatMap((r) =>
      r.endpoints
        ? createPrivateEndpoints(
            {
              name: `${name}${r.suffix}`,
              parent: this,
              resourceGroupName: parsed.resourceGroupName,
              location: r.location,
              subnetId: r.endpoints.subnetId as pulumi.Input<string>,
              privateDnsZoneId: r.endpoints.privateDnsZoneId as pulumi.Input<string>,
            },
            parsed.backends,
          )
        : [],
    );
    this.backends = created.backends;
    this.pools = created.pools;
    this.accountBackends = created.accountBackends;

    this.api = new apimanagement.Api(
      `${name}-api`,
      {
        ...service,
        apiId: API_ID,
        displayName: "Azure OpenAI",
        description: "Azure OpenAI inference, load-balanced over several instances.",
        path: parsed.apiPath,
        protocols: ["https"],
        apiType: "http",
        // With Entra ID callers accepted, APIM must let keyless requests reach the policy, which then
        // requires a valid token from every request without a valid key (policies/callerAuth.ts).
        subscriptionRequired: parsed.clientAuth.subscriptionKey && !parsed.clientAuth.entraId,
        // The Azure OpenAI SDKs send their key as api-key: they work unchanged against the gateway.
        subscriptionKeyParameterNames: { header: "api-key", query: "api-key" },
        // Keep api-version a plain query parameter, so new API versions need no re-import.
        translateRequiredQueryParametersConduct: "query",
        format: parsed.specUrl ? "openapi+json-link" : "openapi+json",
        value: parsed.specUrl ?? JSON.stringify(prepareSpec(inferenceSpec(), { title: "Azure OpenAI" })),
      },
      { parent: this },
    );

    const monitoring = parsed.monitoring.enabled
      ? createGatewayMonitoring(
          {
            name,
            parent: this,
            resourceGroupName: parsed.resourceGroupName,
            location: parsed.location,
            tags: parsed.tags,
            suffix: suffix.result,
            service: this.service,
            principalId: this.principalId,
            subscriptionId: client.subscriptionId,
            accounts: parsed.backends.map((backend) => ({
              name: backend.name,
              resourceId: backend.resourceId,
            })),
          },
          parsed.monitoring,
        )
      : undefined;
    if (monitoring) {
      // The same resource ids scope every alert and panel, so a shared workspace shows this gateway only.
      const scope = {
        name,
        parent: this,
        resourceGroupName: parsed.resourceGroupName,
        tags: parsed.tags,
        suffix: suffix.result,
        workspaceId: monitoring.workspaceId,
        workspaceLocation: monitoring.workspaceLocation,
        serviceId: this.service.id,
        appInsightsId: monitoring.appInsightsId,
        accountIds: parsed.backends.map((b) => b.resourceId as pulumi.Input<string>),
      };
      this.workbook = createGatewayWorkbook({
        ...scope,
        serviceName: this.service.name,
        panels: { teams: !!parsed.teams?.length, accountLogs: parsed.monitoring.openAiDiagnosticSettings },
      });
      this.alerts = alertsOn(parsed.alerts, true)
        ? createGatewayAlerts(
            {
              ...scope,
              sku: parsed.sku.name,
              multiRegion: gatewayRegions.length > 1,
              openAiLogs: parsed.monitoring.openAiDiagnosticSettings,
              capacity: deploymentCapacity(parsed.backends),
              quotas: (parsed.teams ?? []).flatMap((t) =>
                t.tokenQuota ? [{ team: t.name, tokens: t.tokenQuota.tokens, period: t.tokenQuota.period }] : [],
              ),
            },
            parsed.alerts ?? alertsSchema.parse({}),
          )
        : undefined;
    }
    this.workspaceId = pulumi.output(monitoring?.workspaceId);
    this.appInsightsId = pulumi.output(monitoring?.appInsightsId);
    this.appInsightsName = pulumi.output(monitoring?.appInsightsName);
    this.appInsightsConnectionString = pulumi.secret(pulumi.output(monitoring?.appInsightsConnectionString));

    // One retry element serves every pool: sized so the largest pool can try each of its members once.
    const retry: RetryPolicy = resolveRetryPolicy(
      parsed.retry,
      Math.max(...this.routing.pools.map((p) => p.members.length)),
    );
    const policyXml = renderApiPolicy({
      routes: (this.routing.regions[0]?.pools ?? this.routing.pools).map((pool) => ({
        deployment: pool.deployment,
        poolId: pool.poolId,
        accounts: poolAccounts(this.routing, pool),
        regions: this.routing.regions.slice(1).map((r) => {
          const regional = r.pools.find((p) => p.deployment === pool.deployment)!;
          return { region: r.region, poolId: regional.poolId, accounts: poolAccounts(this.routing, regional) };
        }),
      })),
      accounts: this.routing.accounts,
      operations: routedOperations(inferenceSpec()),
      callerAuth: parsed.clientAuth,
      teams: parsed.teams,
      retry,
      timeoutSeconds: parsed.backendTimeoutSeconds,
      retryAfterSeconds: fallbackRetryAfterSeconds(parsed.circuitBreaker.tripDuration),
      // Token metrics need the diagnostic's metrics switch, so they come with monitoring.
      tokenMetric: monitoring ? { namespace: TOKEN_METRIC_NAMESPACE } : undefined,
      tokenLimit: parsed.tokenLimit,
    });
    this.policyXml = pulumi.output(policyXml);
    this.retryPolicy = pulumi.output(retry);
    this.apiPolicy = new apimanagement.ApiPolicy(
      `${name}-api-policy`,
      { ...service, apiId: this.api.name, policyId: "policy", format: "rawxml", value: policyXml },
      // APIM refuses a policy naming a backend that does not exist yet; and the identity should hold
      // its role before traffic flows.
      // and with private endpoints, the first call should find the account's private address in DNS.
      {
        parent: this,
        dependsOn: [
          ...this.pools,
          ...this.accountBackends,
          ...this.roleAssignments,
          ...this.privateEndpoints.map((p) => p.dnsZoneGroup),
        ],
      },
    );

    // Subscription keys: one product and subscription for everyone, or one per team. Teams whose
    // applications use Entra ID tokens only have their rules in the API policy.
    const productsContext = { name, parent: this, service, api: this.api };
    const teams = parsed.clientAuth.subscriptionKey ? (parsed.teams ?? []) : [];
    this.teams = teams.map((team) => createTeam(productsContext, team));
    this.teamSubscriptionKeys = pulumi.secret(
      pulumi
        .all(this.teams.map((t) => t.key))
        .apply((keys) => Object.fromEntries(teams.map((t, i) => [t.name, keys[i]]))),
    );
    if (parsed.clientAuth.subscriptionKey && !parsed.teams) {
      const access = createDefaultProduct(productsContext);
      this.product = access.product;
      this.subscription = access.subscription;
      this.subscriptionKey = access.key;
    } else {
      this.subscriptionKey = pulumi.output(undefined);
    }

    this.gatewayUrl = this.service.gatewayUrl;
    // Keyed by short region names as configured: Azure reports the service's locations by display name.
    this.regionalGatewayUrls = pulumi
      .all([this.service.location, this.service.gatewayRegionalUrl, this.service.additionalLocations])
      .apply(([location, primary, additional]): Record<string, string> => {
        const urls: Record<string, string> = {};
        if (primary) urls[shortRegionName(parsed.location ?? location)] = primary;
        for (const l of additional ?? []) {
          if (l.gatewayRegionalUrl) urls[shortRegionName(l.location)] = l.gatewayRegionalUrl;
        }
        return urls;
      });
    this.endpoint = this.service.gatewayUrl.apply((url) => clientEndpoint(url, parsed.apiPath));

    this.registerOutputs({
      service: this.service,
      backends: this.backends,
      pools: this.pools,
      accountBackends: this.accountBackends,
      roleAssignments: this.roleAssignments,
      privateEndpoints: this.privateEndpoints.map((p) => p.endpoint),
      api: this.api,
      apiPolicy: this.apiPolicy,
      product: this.product,
      subscription: this.subscription,
      gatewayUrl: this.gatewayUrl,
      regionalGatewayUrls: this.regionalGatewayUrls,
      endpoint: this.endpoint,
      subscriptionKey: this.subscriptionKey,
      teamSubscriptionKeys: this.teamSubscriptionKeys,
      principalId: this.principalId,
      policyXml: this.policyXml,
      retryPolicy: this.retryPolicy,
      workspaceId: this.workspaceId,
      appInsightsId: this.appInsightsId,
      appInsightsName: this.appInsightsName,
      appInsightsConnectionString: this.appInsightsConnectionString,
      workbook: this.workbook,
      actionGroup: this.alerts?.actionGroup,
      alertRules: [...(this.alerts?.logAlerts ?? []), ...(this.alerts?.metricAlerts ?? [])],
    });
  }
}
