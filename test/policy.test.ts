import { expect } from "chai";
import {
  COGNITIVE_SERVICES_RESOURCE,
  MAX_CUSTOM_METRIC_DIMENSIONS,
  renderApiPolicy,
  retryCondition,
  type ApiPolicyOptions,
} from "../policies/apiPolicy";
import { RESPONSE_OWNER_KEY_PREFIX, RESPONSE_RETENTION_SECONDS } from "../policies/requestRouting";
import { escapeXml, render } from "../policies/template";
import { resolveRetryPolicy, retryArgsSchema } from "../components/apimGatewayArgs";
import { routedOperations, inferenceSpec } from "../openapi/spec";
import { child, findAll, parseXml, type XmlElement } from "../offline/plan/xml";

const accounts = [
  { backendId: "account-a", priority: 1, weight: 10 },
  { backendId: "account-b", priority: 1, weight: 30 },
  { backendId: "account-c", priority: 2, weight: 1 },
];

const options = (overrides: Partial<ApiPolicyOptions> = {}): ApiPolicyOptions => ({
  routes: [
    { deployment: "chat", poolId: "pool-chat", accounts: [accounts[2], accounts[0]] },
    { deployment: "Embeddings", poolId: "pool-embeddings", accounts: [accounts[1]] },
  ],
  accounts,
  operations: routedOperations(inferenceSpec()),
  retry: { count: 2, intervalSeconds: 0, firstFastRetry: true, statusCodes: [429, 503] },
  retryAfterSeconds: 60,
  ...overrides,
});

const ENTRA = { tenantId: "contoso.onmicrosoft.com", audiences: ["https://cognitiveservices.azure.com"] };

const policyOf = (overrides: Partial<ApiPolicyOptions> = {}) => parseXml(renderApiPolicy(options(overrides)));
const section = (policy: XmlElement, name: string) => child(policy, name);
const variable = (scope: XmlElement, name: string) =>
  findAll(scope, "set-variable").filter((v) => v.attributes.name === name);
const whenOf = (choose: XmlElement) => choose.children.filter((c) => c.tag === "when");

describe("API policy rendering", () => {
  it("authenticates with the managed identity and drops every client credential before Azure OpenAI", () => {
    const policy = policyOf();
    expect(policy.children.map((c) => c.tag)).to.deep.equal(["inbound", "backend", "outbound", "on-error"]);
    const inbound = section(policy, "inbound");
    const tags = inbound.children.map((c) => [c.tag, c.attributes.name ?? ""].join(" ").trim());
    expect(tags.slice(-4)).to.deep.equal([
      "set-header api-key",
      "set-query-parameter api-key",
      "set-header Authorization",
      "authentication-managed-identity",
    ]);
    for (const remove of inbound.children.filter((c) => c.tag.startsWith("set-") && c.attributes["exists-action"])) {
      expect(remove.attributes["exists-action"]).to.equal("delete");
    }
    expect(child(inbound, "authentication-managed-identity").attributes.resource).to.equal(COGNITIVE_SERVICES_RESOURCE);
  });

  it("classifies each operation from the routing its API document gives it", () => {
    const routing = variable(section(policyOf(), "inbound"), "routing")[0].attributes.value;
    const listOf = (kind: string) =>
      new RegExp(`"\\|([^"]*)\\|"\\.Contains\\(template\\)\\) \\{ return "${kind}"; \\}`).exec(routing)?.[1].split("|");
    expect(listOf("gateway")).to.deep.equal(["/v1/models"]);
    expect(listOf("response-create")).to.deep.equal(["/responses", "/v1/responses"]);
    expect(listOf("body")).to.deep.equal(["/v1/chat/completions", "/v1/embeddings"]);
    expect(listOf("response")).to.include.members(["/responses/{response_id}", "/v1/responses/{response_id}/cancel"]);
    // Anything else (the classic routes) names its deployment in the path.
    expect(routing).to.match(/return "path";\s*\}$/);
    expect(routing).to.contain("context.Operation.UrlTemplate");
  });

  it("refuses operations it cannot classify safely", () => {
    const op = (path: string, routing: "body" | "path") => ({ method: "post", path, routing });
    expect(() => renderApiPolicy(options({ operations: [op('/x"|y', "body")] }))).to.throw("cannot be classified");
    expect(() => renderApiPolicy(options({ operations: [op("/x", "body"), op("/x", "path")] }))).to.throw(
      "routed both as body and as path",
    );
  });

  it("reads the deployment from the path, or from the JSON body's model for v1 and Responses calls", () => {
    const inbound = section(policyOf(), "inbound");
    const [fromPath, fromBody] = variable(inbound, "deployment").map((v) => v.attributes.value);
    expect(fromPath).to.equal(
      '@(context.Request.MatchedParameters.GetValueOrDefault("deployment-id", "").ToLowerInvariant())',
    );
    expect(fromBody).to.equal(
      '@(((((JObject)context.Variables["requestBody"])["model"] as JValue)?.Value as string ?? "").ToLowerInvariant())',
    );
    const bodyWhen = findAll(inbound, "when").find((w) => variable(w, "requestBody").length === 1)!;
    expect(bodyWhen.attributes.condition).to.contain('== "body"').and.to.contain('== "response-create"');
    // The body is read as a copy: the client's request goes to Azure OpenAI as it was sent.
    expect(variable(bodyWhen, "requestBody")[0].attributes.value).to.contain("As<JObject>(preserveContent: true)");
    expect(variable(bodyWhen, "responseId")[0].attributes.value).to.contain('["previous_response_id"]');
    expect(variable(inbound, "responseId")[0].attributes.value).to.contain('GetValueOrDefault("response_id", "")');
  });

  it("answers GET v1/models itself, in OpenAI's list format, with the deployments it routes", () => {
    const inbound = section(policyOf(), "inbound");
    const when = findAll(inbound, "when").find((w) => w.attributes.condition?.includes('"/v1/models"'))!;
    expect(when.attributes.condition).to.equal('@(context.Operation.UrlTemplate == "/v1/models")');
    const answer = child(when, "return-response");
    expect(child(answer, "set-status").attributes.code).to.equal("200");
    expect(JSON.parse(child(answer, "set-body").text)).to.deep.equal({
      object: "list",
      data: [
        { id: "chat", object: "model", created: 0, owned_by: "openai-apim" },
        { id: "Embeddings", object: "model", created: 0, owned_by: "openai-apim" },
      ],
    });
    expect(findAll(when, "forward-request")).to.deep.equal([]);
  });

  it("sends each deployment to its pool, knows its accounts by priority, and answers the rest itself", () => {
    const inbound = section(policyOf(), "inbound");
    const routing = findAll(inbound, "choose").find((c) =>
      whenOf(c).some((w) => w.attributes.condition?.includes('Variables["deployment"] == "chat"')),
    )!;
    const whens = whenOf(routing);
    expect(whens.map((w) => [w.attributes.condition, ...w.children.map((c) => c.attributes.value)])).to.deep.equal([
      ['@((string)context.Variables["deployment"] == "chat")', "pool-chat", "account-a:1:10,account-c:2:1"],
      ['@((string)context.Variables["deployment"] == "embeddings")', "pool-embeddings", "account-b:1:30"],
      ['@((string)context.Variables["routing"] == "response")', "account-a:1:10,account-b:1:30,account-c:2:1"],
      ['@((string)context.Variables["deployment"] == "")', undefined],
    ]);
    const missing = child(whens[3], "return-response");
    expect(child(missing, "set-status").attributes.code).to.equal("400");
    expect(JSON.parse(child(missing, "set-body").text).error.message).to.contain("model");
    const notFound = child(child(routing, "otherwise"), "return-response");
    expect(child(notFound, "set-status").attributes).to.deep.equal({ code: "404", reason: "Not Found" });
    expect(JSON.parse(child(notFound, "set-body").text)).to.deep.equal({
      error: {
        code: "DeploymentNotFound",
        message: "The API deployment for this resource does not exist. This gateway serves: chat, Embeddings.",
      },
    });
  });

  it("refuses names that could break out of a policy expression", () => {
    const bad = { deployment: 'x" || true || "', poolId: "p", accounts };
    expect(() => renderApiPolicy(options({ routes: [bad] }))).to.throw("cannot be routed");
    const badAccount = [{ backendId: "a,b:1", priority: 0, weight: 1 }];
    expect(() => renderApiPolicy(options({ accounts: badAccount }))).to.throw("cannot be routed");
  });

  it("looks up which account stores the response a call names, in the gateway's cache", () => {
    const inbound = section(policyOf(), "inbound");
    const lookup = findAll(inbound, "cache-lookup-value")[0];
    expect(lookup.attributes).to.deep.equal({
      key: `@("${RESPONSE_OWNER_KEY_PREFIX}" + (string)context.Variables["responseId"])`,
      "variable-name": "owner",
      "default-value": "",
    });
    const route = variable(inbound, "route")[0].attributes.value;
    // An owner the gateway no longer has (an account removed since) counts as unknown.
    expect(route).to.contain('"|account-a|account-b|account-c|".Contains("|" + owner + "|")');
    expect(route).to.contain('if (routing == "response") { return owner != "" ? "owner" : "probe"; }');
    expect(route).to.contain('if ((string)context.Variables["responseId"] == "") { return "spread"; }');
  });

  it("remembers the account of each stored response for as long as Azure keeps it, and forgets deleted ones", () => {
    const outbound = section(policyOf(), "outbound");
    const store = findAll(outbound, "cache-store-value")[0].attributes;
    expect(store.key).to.equal(`@("${RESPONSE_OWNER_KEY_PREFIX}" + (string)context.Variables["storeResponseId"])`);
    expect(store.value).to.equal(
      `@(((string)context.Variables["candidates"]).Split(',')[(int)context.Variables["attempt"] - 1])`,
    );
    expect(Number(store.duration))
      .to.equal(RESPONSE_RETENTION_SECONDS)
      .and.to.equal(30 * 86400);
    // The id of a created response comes from its JSON answer; a streamed answer is not read.
    const id = variable(outbound, "storeResponseId")[0].attributes.value;
    expect(id).to.contain('Contains("application/json")').and.to.contain('As<JObject>(preserveContent: true)["id"]');
    const remove = findAll(outbound, "cache-remove-value")[0];
    expect(remove.attributes.key).to.equal(
      `@("${RESPONSE_OWNER_KEY_PREFIX}" + (string)context.Variables["responseId"])`,
    );
    expect(
      findAll(outbound, "when").find((w) => findAll(w, "cache-remove-value").length)!.attributes.condition,
    ).to.contain('context.Request.Method == "DELETE"');
  });

  it("gives a clear error when the account storing a response fails, in outbound and on-error", () => {
    const policy = policyOf({ retryAfterSeconds: 45 });
    const failed = findAll(section(policy, "outbound"), "when").find((w) =>
      w.attributes.condition?.includes(">= 500"),
    )!;
    expect(failed.attributes.condition).to.contain('"owner"');
    const onError = findAll(section(policy, "on-error"), "when")[0];
    expect(onError.attributes.condition).to.contain('"owner"').and.to.contain('LastError.Source == "forward-request"');
    for (const scope of [failed, child(onError, "return-response")]) {
      expect(child(scope, "set-status").attributes.code).to.equal("503");
      expect(JSON.parse(child(scope, "set-body").text).error.code).to.equal("ResponseOwnerUnavailable");
      const retryAfter = findAll(scope, "set-header").find((h) => h.attributes.name === "Retry-After")!;
      expect(child(retryAfter, "value").text).to.equal("45");
    }
  });

  it("retries 429 and 503 by picking from the pool again, with a buffered body", () => {
    const backend = section(policyOf(), "backend");
    const [poolWhen] = whenOf(child(backend, "choose"));
    expect(poolWhen.attributes.condition).to.equal('@((string)context.Variables["route"] == "pool")');
    const retry = child(poolWhen, "retry");
    expect(retry.attributes).to.deep.equal({
      condition:
        "@(context.Response != null ? (context.Response.StatusCode == 429 || context.Response.StatusCode == 503) : false)",
      count: "2",
      interval: "0",
      "first-fast-retry": "true",
    });
    expect(retry.children.map((c) => [c.tag, c.attributes])).to.deep.equal([
      ["set-backend-service", { "backend-id": '@((string)context.Variables["pool"])' }],
      ["forward-request", { "buffer-request-body": "true", "buffer-response": "false", timeout: "240" }],
    ]);
  });

  it("calls stored-response accounts one at a time, enough times to ask every account once", () => {
    const backend = section(policyOf(), "backend");
    const retry = child(child(child(backend, "choose"), "otherwise"), "retry");
    expect(retry.attributes.count).to.equal("2");
    expect(retry.attributes.interval).to.equal("0");
    const condition = retry.attributes.condition;
    // A new response moves on from a throttled account within the pool retry's budget...
    expect(condition).to.contain('if (route == "spread") { return attempt <= 2 && (status == 429 || status == 503); }');
    // ...a search moves on while accounts do not know the response; the known owner is asked once.
    expect(condition).to.contain("status == 404").and.to.contain('Contains("previous_response")');
    expect(condition).to.match(/return false;\s*\}$/);
    expect(retry.children.map((c) => c.tag)).to.deep.equal(["set-variable", "set-backend-service", "forward-request"]);
    expect(retry.children[1].attributes["backend-id"]).to.contain('Variables["candidates"]');
  });

  it("adds back-off attributes to the pool retry only when configured", () => {
    const retry = findAll(
      policyOf({
        retry: {
          count: 3,
          intervalSeconds: 1,
          deltaSeconds: 2,
          maxIntervalSeconds: 10,
          firstFastRetry: false,
          statusCodes: [429],
        },
      }),
      "retry",
    )[0];
    expect(retry.attributes).to.include({
      count: "3",
      interval: "1",
      delta: "2",
      "max-interval": "10",
      "first-fast-retry": "false",
    });
    expect(retry.attributes.condition).to.equal(retryCondition([429]));
  });

  it("forwards once, without a retry element, when there is nothing to retry on", () => {
    const single = [{ backendId: "account-a", priority: 1, weight: 1 }];
    const backend = section(
      policyOf({
        retry: { ...options().retry, count: 0 },
        accounts: single,
        routes: [{ deployment: "chat", poolId: "pool-chat", accounts: single }],
      }),
      "backend",
    );
    expect(findAll(backend, "retry")).to.deep.equal([]);
    const [poolWhen] = whenOf(child(backend, "choose"));
    expect(poolWhen.children.map((c) => c.tag)).to.deep.equal(["set-backend-service", "forward-request"]);
    expect(child(child(backend, "choose"), "otherwise").children.map((c) => c.tag)).to.deep.equal([
      "set-variable",
      "set-backend-service",
      "forward-request",
    ]);
  });

  it("streams: every forward passes the response through unbuffered, with the timeout given", () => {
    for (const count of [0, 2]) {
      const forwards = findAll(
        policyOf({ retry: { ...options().retry, count }, timeoutSeconds: 120 }),
        "forward-request",
      );
      expect(forwards.length).to.equal(2);
      for (const f of forwards) {
        expect(f.attributes).to.deep.equal({
          "buffer-request-body": "true",
          "buffer-response": "false",
          timeout: "120",
        });
      }
    }
  });

  it("keeps a backend's Retry-After on 429/503 errors and otherwise sends the trip duration", () => {
    const onError = section(policyOf({ retryAfterSeconds: 45 }), "on-error");
    const when = whenOf(child(onError, "choose"))[1];
    expect(when.attributes.condition).to.contain("StatusCode == 429").and.to.contain("StatusCode == 503");
    const header = child(when, "set-header");
    expect(header.attributes).to.deep.equal({ name: "Retry-After", "exists-action": "skip" });
    expect(child(header, "value").text).to.equal("45");
  });

  it("escapes text for XML, and refuses ids that could break out of an expression rather than escaping them", () => {
    expect(escapeXml(`a&b<c>"d'`)).to.equal("a&amp;b&lt;c&gt;&quot;d&apos;");
    expect(() =>
      renderApiPolicy(options({ routes: [{ deployment: "chat", poolId: `pool"&<x>'`, accounts }] })),
    ).to.throw("cannot be routed");
  });

  it("refuses a template placeholder without a value", () => {
    expect(() => render("<a>{{missing}}</a>", {})).to.throw("no value for {{missing}}");
    expect(() => render("<a>{{{missing}}}</a>", {})).to.throw("no fragment for {{{missing}}}");
  });
});

describe("API policy: callers", () => {
  const validation = (policy: XmlElement) => findAll(section(policy, "inbound"), "validate-azure-ad-token");

  it("takes only the subscription key by default and validates no token", () => {
    const inbound = section(policyOf(), "inbound");
    expect(validation(policyOf())).to.deep.equal([]);
    expect(variable(inbound, "caller")[0].attributes.value).to.equal("@(context.Subscription.Id)");
  });

  it("asks an Entra ID token of every request without a subscription key when both are accepted", () => {
    const policy = policyOf({ callerAuth: { subscriptionKey: true, entraId: ENTRA } });
    const [token] = validation(policy);
    const when = findAll(section(policy, "inbound"), "when").find((w) => findAll(w, "validate-azure-ad-token").length)!;
    expect(when.attributes.condition).to.equal("@(context.Subscription == null)");
    expect(token.attributes).to.include({
      "tenant-id": "contoso.onmicrosoft.com",
      "header-name": "Authorization",
      "failed-validation-httpcode": "401",
      "output-token-variable-name": "callerToken",
    });
    expect(token.children.map((c) => c.tag)).to.deep.equal(["audiences"]);
    expect(findAll(token, "audience").map((a) => a.text)).to.deep.equal(["https://cognitiveservices.azure.com"]);
    expect(variable(section(policy, "inbound"), "caller")[0].attributes.value).to.equal(
      '@(context.Subscription != null ? context.Subscription.Id : "app:" + ((Jwt)context.Variables["callerToken"]).Claims.GetValueOrDefault("appid", ((Jwt)context.Variables["callerToken"]).Claims.GetValueOrDefault("azp", "")))',
    );
  });

  it("validates every request's token when Entra ID is the only way in, allowing only the listed applications", () => {
    const ids = ["11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"];
    const policy = policyOf({
      callerAuth: {
        subscriptionKey: false,
        entraId: { ...ENTRA, audiences: ["api://gw", "https://x"], allowedClientIds: ids },
      },
    });
    const inbound = section(policy, "inbound");
    const token = child(inbound, "validate-azure-ad-token");
    // Documented child order: client application ids before audiences.
    expect(token.children.map((c) => c.tag)).to.deep.equal(["client-application-ids", "audiences"]);
    expect(findAll(token, "application-id").map((a) => a.text)).to.deep.equal(ids);
    expect(findAll(token, "audience").map((a) => a.text)).to.deep.equal(["api://gw", "https://x"]);
    expect(token.attributes["failed-validation-error-message"]).to.not.contain("api-key");
    expect(variable(inbound, "caller")[0].attributes.value).to.not.contain("Subscription");
  });

  it("refuses a configuration nobody could call, and client ids that are not GUIDs", () => {
    expect(() => renderApiPolicy(options({ callerAuth: { subscriptionKey: false } }))).to.throw("nobody could call");
    expect(() =>
      renderApiPolicy(
        options({ callerAuth: { subscriptionKey: true, entraId: { ...ENTRA, allowedClientIds: ["x"] } } }),
      ),
    ).to.throw("not an application (client) id");
  });
});

describe("API policy: token accounting", () => {
  const accounting = (policy: XmlElement) =>
    findAll(section(policy, "inbound"), "when").find((w) =>
      w.attributes.condition?.includes('"routing"] != "response"'),
    );

  it("emits token metrics split by subscription, API and deployment, skipping calls on stored responses", () => {
    const when = accounting(policyOf({ tokenMetric: { namespace: "openai-apim" } }))!;
    const metric = child(when, "azure-openai-emit-token-metric");
    expect(metric.attributes.namespace).to.equal("openai-apim");
    const dims = metric.children.map((d) => d.attributes);
    expect(dims).to.deep.equal([
      { name: "Subscription ID" },
      { name: "API ID" },
      { name: "Deployment", value: '@((string)context.Variables["deployment"])' },
    ]);
    // Inbound runs before the pool picks a member: the request URL cannot name the account that answered.
    for (const d of dims) expect(d.value ?? "").to.not.contain("context.Request.Url");
  });

  it("adds the caller as a dimension when Entra ID callers have no subscription to tell them apart", () => {
    const policy = policyOf({ tokenMetric: { namespace: "n" }, callerAuth: { subscriptionKey: true, entraId: ENTRA } });
    const names = findAll(policy, "dimension").map((d) => d.attributes.name);
    expect(names).to.deep.equal(["Subscription ID", "API ID", "Deployment", "Caller"]);
  });

  it("refuses more metric dimensions than Azure Monitor leaves for a policy", () => {
    const dimensions = Array.from({ length: MAX_CUSTOM_METRIC_DIMENSIONS + 1 }, (_, i) => ({
      name: `d${i}`,
      value: "x",
    }));
    expect(() => renderApiPolicy(options({ tokenMetric: { namespace: "n", dimensions } }))).to.throw(
      /6 dimensions given/,
    );
  });

  it("limits tokens per caller once the deployment is known, and not for reads of stored responses", () => {
    const policy = policyOf({ tokenLimit: { tokensPerMinute: 5000, estimatePromptTokens: false } });
    const limit = child(accounting(policy)!, "azure-openai-token-limit");
    expect(limit.attributes).to.include({
      "counter-key": '@((string)context.Variables["caller"])',
      "tokens-per-minute": "5000",
      "estimate-prompt-tokens": "false",
    });
    // After routing: a 404 for an unknown deployment counts no tokens.
    const inbound = section(policy, "inbound").children;
    const routingIndex = inbound.findIndex((c) => findAll(c, "return-response").some((r) => r.children.length > 0));
    expect(inbound.findIndex((c) => findAll(c, "azure-openai-token-limit").length > 0)).to.be.greaterThan(routingIndex);
  });

  it("leaves token accounting out entirely when neither metric nor limit is on", () => {
    expect(accounting(policyOf())).to.equal(undefined);
  });
});

describe("retry defaults", () => {
  it("retries pool size - 1 times when no count is configured", () => {
    const settings = retryArgsSchema.parse({});
    expect(resolveRetryPolicy(settings, 3).count).to.equal(2);
    expect(resolveRetryPolicy(settings, 1).count).to.equal(0);
    expect(resolveRetryPolicy({ ...settings, count: 5 }, 3).count).to.equal(5);
  });
});
