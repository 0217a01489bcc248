import { expect } from "chai";
import { ConfigError } from "../common/errors";
import { deterministicGuid } from "../common/naming";
import { ApimGateway } from "../components/apimGateway";
import type { ApimBackendArgs, ApimGatewayArgs } from "../components/apimGatewayArgs";
import { inferenceSpec, prepareSpec } from "../openapi/spec";
import { COGNITIVE_SERVICES_RESOURCE } from "../policies/apiPolicy";
import { PLACEHOLDER_SUBSCRIPTION_ID } from "../offline/runtime/placeholders";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";
import { attempt, existingBackend, input, named, ofType, openAiUserGrants, TYPES } from "./helpers";
import { child, findAll, parseXml } from "../offline/plan/xml";

/**
 * Three existing accounts hosting different deployments: sweden {chat, embeddings} and france {chat}
 * preferred (70/30), useast {chat, Embeddings, o3} as spill-over; france's endpoint lacks the trailing
 * slash, useast spells a deployment with a capital.
 */
const BACKENDS: ApimBackendArgs[] = [
  existingBackend("sweden", "swedencentral", 1, 70, ["chat", "embeddings"]),
  { ...existingBackend("france", "francecentral", 1, 30, ["chat"]), endpoint: "https://ai-france.openai.azure.com" },
  existingBackend("useast", "eastus2", 2, 100, ["chat", "Embeddings", "o3"]),
];

const ARGS: ApimGatewayArgs = {
  resourceGroupName: "rg-gw",
  location: "swedencentral",
  sku: { name: "StandardV2", capacity: 2 },
  publisherEmail: "platform@contoso.com",
  publisherName: "Contoso",
  backends: BACKENDS,
  tags: { env: "test" },
};

async function gateway(args: Partial<ApimGatewayArgs> = {}): Promise<ProgramRun> {
  return runMocked({ config: {} }, () => {
    const gw = new ApimGateway("gateway", { ...ARGS, ...args });
    return {
      endpoint: gw.endpoint,
      subscriptionKey: gw.subscriptionKey,
      principalId: gw.principalId,
      gatewayUrl: gw.gatewayUrl,
    };
  });
}

describe("ApimGateway: 3 backends at two priority levels", () => {
  let run: ProgramRun;
  let service: RecordedResource;
  before(async () => {
    run = await gateway();
    [service] = ofType(run.resources, TYPES.service);
  });

  it("parents every child to the component", () => {
    const [component] = ofType(run.resources, TYPES.gateway);
    expect(component.name).to.equal("gateway");
    for (const r of run.resources.filter((x) => x !== component)) {
      expect(r.parent, r.name).to.equal(component.urn);
    }
  });

  it("creates the APIM service with SKU, system identity, publisher, tags and long timeouts", () => {
    expect(input(service, "sku")).to.deep.equal({ name: "StandardV2", capacity: 2 });
    expect(input(service, "identity")).to.deep.equal({ type: "SystemAssigned" });
    expect(input(service, "publisherEmail")).to.equal("platform@contoso.com");
    expect(input(service, "publisherName")).to.equal("Contoso");
    expect(input(service, "location")).to.equal("swedencentral");
    expect(input(service, "tags")).to.deep.equal({ env: "test" });
    expect(input(service, "serviceName")).to.match(/^gateway-[a-z0-9]{6}$/);
    expect(service.customTimeouts).to.deep.equal({ create: "3h", update: "3h", delete: "3h" });
    // v2 tiers refuse protocol settings; TLS 1.2 is their only client protocol anyway.
    expect(input(service, "customProperties")).to.equal(undefined);
  });

  it("grants the gateway identity Cognitive Services OpenAI User on each account, with stable GUID names", () => {
    // The built-in role's id, as Azure documents it: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
    const openAiUser = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
    const assignments = openAiUserGrants(run.resources);
    const principal = (service.state.identity as { principalId: string }).principalId;
    expect(assignments.map((a) => input(a, "scope"))).to.deep.equal(BACKENDS.map((b) => b.resourceId));
    for (const a of assignments) {
      expect(input(a, "roleDefinitionId")).to.equal(
        `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${openAiUser}`,
      );
      expect(input(a, "principalId")).to.equal(principal);
      expect(input(a, "principalType")).to.equal("ServicePrincipal");
      expect(input(a, "roleAssignmentName")).to.equal(
        deterministicGuid(input(a, "scope") as string, principal, openAiUser),
      );
    }
    expect(new Set(assignments.map((a) => input(a, "roleAssignmentName"))).size).to.equal(3);
    expect(run.invokes).to.include("azure-native:authorization:getClientConfig");
  });

  it("names the role in the account's own subscription when the account lives in another one", async () => {
    const elsewhere =
      "/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/ai-other";
    const other = await runMocked({ config: {} }, () => {
      new ApimGateway("gateway", { ...ARGS, backends: [{ ...BACKENDS[0], resourceId: elsewhere }] });
      return {};
    });
    const [grant] = openAiUserGrants(other.resources);
    expect(input(grant, "scope")).to.equal(elsewhere);
    expect(input(grant, "roleDefinitionId")).to.equal(
      "/subscriptions/99999999-9999-9999-9999-999999999999/providers/Microsoft.Authorization/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    );
  });

  it("creates one Single http backend per (account, hosted deployment) at <endpoint>/openai, each with one breaker rule", () => {
    const singles = ofType(run.resources, TYPES.backend).filter(
      (b) => input(b, "type") === "Single" && String(input(b, "backendId")).startsWith("openai-"),
    );
    expect(singles.map((b) => [b.name, input(b, "backendId"), input(b, "url"), input(b, "protocol")])).to.deep.equal([
      ["gateway-backend-openai-sweden-chat", "openai-sweden-chat", "https://ai-sweden.openai.azure.com/openai", "http"],
      [
        "gateway-backend-openai-sweden-embeddings",
        "openai-sweden-embeddings",
        "https://ai-sweden.openai.azure.com/openai",
        "http",
      ],
      ["gateway-backend-openai-france-chat", "openai-france-chat", "https://ai-france.openai.azure.com/openai", "http"],
      ["gateway-backend-openai-useast-chat", "openai-useast-chat", "https://ai-useast.openai.azure.com/openai", "http"],
      [
        "gateway-backend-openai-useast-embeddings",
        "openai-useast-embeddings",
        "https://ai-useast.openai.azure.com/openai",
        "http",
      ],
      ["gateway-backend-openai-useast-o3", "openai-useast-o3", "https://ai-useast.openai.azure.com/openai", "http"],
    ]);
    for (const b of singles) {
      expect(input(b, "circuitBreaker")).to.deep.equal({
        rules: [
          {
            name: "openai-breaker",
            failureCondition: {
              count: 1,
              interval: "PT1M",
              statusCodeRanges: [
                { min: 429, max: 429 },
                { min: 500, max: 599 },
              ],
            },
            tripDuration: "PT1M",
            acceptRetryAfter: true,
          },
        ],
      });
      expect(input(b, "tls")).to.deep.equal({ validateCertificateChain: true, validateCertificateName: true });
    }
  });

  it("creates one Pool per deployment over exactly the backends hosting it, by ARM id, with priorities and weights", () => {
    const single = (id: string) => ofType(run.resources, TYPES.backend).find((b) => input(b, "backendId") === id)!.id;
    const pools = ofType(run.resources, TYPES.backend)
      .filter((b) => input(b, "type") === "Pool")
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(pools.map((p) => [p.name, input(p, "backendId")])).to.deep.equal([
      ["gateway-pool-chat", "pool-chat"],
      ["gateway-pool-embeddings", "pool-embeddings"],
      ["gateway-pool-o3", "pool-o3"],
    ]);
    expect(pools.map((p) => input(p, "pool"))).to.deep.equal([
      {
        services: [
          { id: single("openai-sweden-chat"), priority: 1, weight: 70 },
          { id: single("openai-france-chat"), priority: 1, weight: 30 },
          { id: single("openai-useast-chat"), priority: 2, weight: 100 },
        ],
      },
      {
        services: [
          { id: single("openai-sweden-embeddings"), priority: 1, weight: 70 },
          { id: single("openai-useast-embeddings"), priority: 2, weight: 100 },
        ],
      },
      { services: [{ id: single("openai-useast-o3"), priority: 2, weight: 100 }] },
    ]);
    for (const pool of pools) {
      expect(input(pool, "url")).to.equal(undefined);
      expect(input(pool, "protocol")).to.equal(undefined);
    }
    expect(single("openai-sweden-chat")).to.match(
      /\/providers\/Microsoft\.ApiManagement\/service\/gateway-[a-z0-9]{6}\/backends\/openai-sweden-chat$/,
    );
  });

  it("imports the inference API over HTTPS only, subscription required, keyed by api-key", () => {
    const [api] = ofType(run.resources, TYPES.api);
    expect(input(api, "path")).to.equal("openai");
    expect(input(api, "protocols")).to.deep.equal(["https"]);
    expect(input(api, "subscriptionRequired")).to.equal(true);
    expect(input(api, "subscriptionKeyParameterNames")).to.deep.equal({ header: "api-key", query: "api-key" });
    expect(input(api, "format")).to.equal("openapi+json");
    expect(JSON.parse(input(api, "value") as string)).to.deep.equal(
      prepareSpec(inferenceSpec(), { title: "Azure OpenAI" }),
    );
  });

  it("sets an API policy that authenticates with the identity, routes each deployment to its pool and retries twice", () => {
    const [policy] = ofType(run.resources, TYPES.apiPolicy);
    expect(input(policy, "format")).to.equal("rawxml");
    const xml = parseXml(input(policy, "value") as string);
    expect(child(child(xml, "inbound"), "authentication-managed-identity").attributes.resource).to.equal(
      COGNITIVE_SERVICES_RESOURCE,
    );
    const routes = findAll(child(xml, "inbound"), "when")
      .filter((when) => when.attributes.condition.includes('Variables["deployment"] == "'))
      .map((when) => [when.attributes.condition, ...when.children.map((c) => c.attributes.value)]);
    // Each deployment: its pool, and its accounts (account backend:priority:weight) by priority.
    expect(routes).to.deep.equal([
      [
        '@((string)context.Variables["deployment"] == "chat")',
        "pool-chat",
        "account-sweden:1:70,account-france:1:30,account-useast:2:100",
      ],
      [
        '@((string)context.Variables["deployment"] == "embeddings")',
        "pool-embeddings",
        "account-sweden:1:70,account-useast:2:100",
      ],
      ['@((string)context.Variables["deployment"] == "o3")', "pool-o3", "account-useast:2:100"],
      ['@((string)context.Variables["deployment"] == "")', undefined],
    ]);
    const retry = findAll(child(xml, "backend"), "retry")[0];
    // The largest pool (chat) has three members: two retries let a request try each once.
    expect(retry.attributes.count).to.equal("2");
    expect(retry.attributes.condition).to.contain("StatusCode == 429").and.to.contain("StatusCode == 503");
    expect(child(retry, "forward-request").attributes["buffer-request-body"]).to.equal("true");
  });

  it("creates one backend per account, without a breaker, for stored responses only that account can answer", () => {
    const accounts = ofType(run.resources, TYPES.backend).filter((b) =>
      String(input(b, "backendId")).startsWith("account-"),
    );
    expect(accounts.map((b) => [b.name, input(b, "backendId"), input(b, "url"), input(b, "type")])).to.deep.equal([
      ["gateway-backend-account-sweden", "account-sweden", "https://ai-sweden.openai.azure.com/openai", "Single"],
      ["gateway-backend-account-france", "account-france", "https://ai-france.openai.azure.com/openai", "Single"],
      ["gateway-backend-account-useast", "account-useast", "https://ai-useast.openai.azure.com/openai", "Single"],
    ]);
    for (const b of accounts) {
      expect(input(b, "circuitBreaker")).to.equal(undefined);
      expect(input(b, "tls")).to.deep.equal({ validateCertificateChain: true, validateCertificateName: true });
    }
    const [policy] = ofType(run.resources, TYPES.apiPolicy);
    for (const b of accounts) expect(policy.dependencies).to.include(b.urn);
    // No pool holds them: they are reached only by id, from the policy's stored-response routes.
    for (const pool of ofType(run.resources, TYPES.backend).filter((b) => input(b, "type") === "Pool")) {
      const members = (input(pool, "pool") as { services: { id: string }[] }).services.map((m) => m.id);
      for (const b of accounts) expect(members.join()).to.not.contain(String(input(b, "backendId")));
    }
  });

  it("creates the policy after every pool and the role assignments", () => {
    const [policy] = ofType(run.resources, TYPES.apiPolicy);
    for (const pool of ["gateway-pool-chat", "gateway-pool-embeddings", "gateway-pool-o3"]) {
      expect(policy.dependencies).to.include(named(run.resources, pool).urn);
    }
    for (const a of openAiUserGrants(run.resources)) {
      expect(policy.dependencies).to.include(a.urn);
    }
  });

  it("publishes a product with the API and one subscription, and exports its key as a secret", () => {
    const [product] = ofType(run.resources, TYPES.product);
    expect(product.inputs).to.include({
      productId: "openai",
      subscriptionRequired: true,
      approvalRequired: false,
      state: "published",
    });
    const [link] = ofType(run.resources, "azure-native:apimanagement:ProductApi");
    expect(link.inputs).to.include({ productId: "openai", apiId: "openai" });
    const [subscription] = ofType(run.resources, TYPES.subscription);
    expect(subscription.inputs).to.include({ sid: "openai-default", scope: "/products/openai", state: "active" });
    expect(subscription.additionalSecretOutputs).to.include("primaryKey");
    expect(run.secretOutputs).to.deep.equal(["subscriptionKey"]);
    expect(run.outputs.subscriptionKey).to.match(/^placeholder-primary-key-/);
    expect(run.invokes).to.include("azure-native:apimanagement:listSubscriptionSecrets");
  });

  it("exports what a client sets as its Azure endpoint: the gateway URL, since the SDKs append /openai", () => {
    expect(run.outputs.endpoint).to.equal(`https://${input(service, "serviceName")}.azure-api.net`);
  });
});

describe("ApimGateway: options", () => {
  for (const sku of ["Developer", "Premium", "BasicV2", "StandardV2"]) {
    it(`does not send enableClientCertificate on ${sku} (azure-native would send false, which Azure refuses on Developer)`, async () => {
      const run = await gateway({ sku: { name: sku } });
      const [service] = ofType(run.resources, TYPES.service);
      expect(service.inputs).to.not.have.property("enableClientCertificate");
      expect(input(service, "sku")).to.deep.equal({ name: sku, capacity: 1 });
    });
  }

  it("hardens TLS on classic tiers", async () => {
    const run = await gateway({ sku: { name: "Developer" } });
    const [service] = ofType(run.resources, TYPES.service);
    expect(input(service, "sku")).to.deep.equal({ name: "Developer", capacity: 1 });
    expect(input(service, "customProperties")).to.deep.include({
      "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "False",
      "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11": "False",
    });
  });

  it("applies a configured breaker and retry", async () => {
    const run = await gateway({
      circuitBreaker: {
        failurePercentage: 50,
        interval: "PT10S",
        tripDuration: "PT30S",
        statusCodes: [{ min: 429, max: 429 }],
        acceptRetryAfter: false,
      },
      retry: { count: 1, statusCodes: [429] },
    });
    const single = ofType(run.resources, TYPES.backend).find((b) =>
      String(input(b, "backendId")).startsWith("openai-"),
    );
    expect(input(single!, "circuitBreaker")).to.deep.equal({
      rules: [
        {
          name: "openai-breaker",
          failureCondition: { percentage: 50, interval: "PT10S", statusCodeRanges: [{ min: 429, max: 429 }] },
          tripDuration: "PT30S",
          acceptRetryAfter: false,
        },
      ],
    });
    const xml = parseXml(input(ofType(run.resources, TYPES.apiPolicy)[0], "value") as string);
    expect(findAll(xml, "retry")[0].attributes.count).to.equal("1");
    expect(
      child(
        findAll(xml, "set-header").find((h) => h.attributes.name === "Retry-After")!,
        "value",
      ).text,
    ).to.equal("30");
  });

  it("creates backends without a breaker when it is disabled", async () => {
    const run = await gateway({ circuitBreaker: { enabled: false } });
    for (const b of ofType(run.resources, TYPES.backend)) {
      expect(input(b, "circuitBreaker")).to.equal(undefined);
    }
  });

  it("imports a pinned upstream spec by link when given one", async () => {
    const url = "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/inference.json";
    const run = await gateway({ specUrl: url, apiPath: "ai/openai" });
    const [api] = ofType(run.resources, TYPES.api);
    expect(api.inputs).to.include({ format: "openapi+json-link", value: url, path: "ai/openai" });
    expect(run.outputs.endpoint).to.match(/^https:\/\/gateway-[a-z0-9]{6}\.azure-api\.net\/ai$/);
  });
});

describe("ApimGateway: callers", () => {
  const entraId = { tenantId: "contoso.onmicrosoft.com", allowedClientIds: ["11111111-2222-3333-4444-555555555555"] };

  it("with keys and Entra ID tokens, lets keyless requests reach the policy, which validates their token", async () => {
    const run = await gateway({ clientAuth: { entraId } });
    const [api] = ofType(run.resources, TYPES.api);
    expect(input(api, "subscriptionRequired")).to.equal(false);
    expect(input(api, "subscriptionKeyParameterNames")).to.deep.equal({ header: "api-key", query: "api-key" });
    const xml = parseXml(input(ofType(run.resources, TYPES.apiPolicy)[0], "value") as string);
    expect(findAll(xml, "validate-azure-ad-token")[0].attributes["tenant-id"]).to.equal("contoso.onmicrosoft.com");
    expect(ofType(run.resources, TYPES.subscription)).to.have.length(1);
    expect(run.outputs.subscriptionKey).to.be.a("string");
  });

  it("with Entra ID only, creates no product, subscription or key", async () => {
    const run = await gateway({ clientAuth: { entraId, subscriptionKey: false } });
    expect(input(ofType(run.resources, TYPES.api)[0], "subscriptionRequired")).to.equal(false);
    expect(ofType(run.resources, TYPES.product)).to.deep.equal([]);
    expect(ofType(run.resources, TYPES.subscription)).to.deep.equal([]);
    expect(run.outputs.subscriptionKey).to.equal(undefined);
  });
});

describe("ApimGateway: validation", () => {
  const bad: [string, Partial<ApimGatewayArgs>, string][] = [
    ["the Consumption tier", { sku: { name: "Consumption" } }, "args.sku.name"],
    ["two Developer units", { sku: { name: "Developer", capacity: 2 } }, "args.sku.capacity"],
    ["no backends", { backends: [] }, "args.backends"],
    [
      "31 backends",
      { backends: Array.from({ length: 31 }, (_, i) => ({ ...BACKENDS[0], name: `b${i}` })) },
      "args.backends",
    ],
    [
      "a duplicate backend name",
      { backends: [BACKENDS[0], { ...BACKENDS[1], name: "SWEDEN" }] },
      "args.backends[1].name",
    ],
    ["a priority of 101", { backends: [{ ...BACKENDS[0], priority: 101 }] }, "args.backends[0].priority"],
    [
      "a plain-http endpoint",
      { backends: [{ ...BACKENDS[0], endpoint: "http://ai.openai.azure.com" }] },
      "args.backends[0].endpoint",
    ],
    [
      "a resource id that is not an account",
      { backends: [{ ...BACKENDS[0], resourceId: "/subscriptions/x" }] },
      "args.backends[0].resourceId",
    ],
    ["a malformed trip duration", { circuitBreaker: { tripDuration: "30s" } }, "args.circuitBreaker.tripDuration"],
    ["a bad publisher e-mail", { publisherEmail: "nobody" }, "args.publisherEmail"],
    [
      "a backend without deployments",
      { backends: [{ ...BACKENDS[0], deployments: [] }] },
      "args.backends[0].deployments",
    ],
    [
      "a deployment listed twice on one backend (case-insensitively)",
      { backends: [{ ...BACKENDS[0], deployments: ["chat", "CHAT"] }] },
      "args.backends[0].deployments[1]",
    ],
    [
      "a deployment name with a space",
      { backends: [{ ...BACKENDS[0], deployments: ["gpt 4o"] }] },
      "args.backends[0].deployments[0]",
    ],
    ["client auth that lets nobody in", { clientAuth: { subscriptionKey: false } }, "args.clientAuth.subscriptionKey"],
    [
      "an Entra ID client id that is not a GUID",
      { clientAuth: { entraId: { tenantId: "contoso.onmicrosoft.com", allowedClientIds: ["app"] } } },
      "args.clientAuth.entraId.allowedClientIds[0]",
    ],
  ];
  for (const [what, args, key] of bad) {
    it(`rejects ${what} before registering anything, naming ${key}`, async () => {
      const { error, registered } = await attempt(() => new ApimGateway("gateway", { ...ARGS, ...args }));
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.key)).to.include(key);
      expect(registered).to.deep.equal([]);
    });
  }
});
