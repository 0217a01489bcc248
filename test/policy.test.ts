import { expect } from "chai";
import {
  COGNITIVE_SERVICES_RESOURCE,
  MAX_CUSTOM_METRIC_DIMENSIONS,
  renderApiPolicy,
  retryCondition,
  type ApiPolicyOptions,
} from "../policies/apiPolicy";
import { escapeXml, render } from "../policies/template";
import { resolveRetryPolicy, retryArgsSchema } from "../components/apimGatewayArgs";
import { child, findAll, parseXml } from "../offline/plan/xml";

const options = (overrides: Partial<ApiPolicyOptions> = {}): ApiPolicyOptions => ({
  routes: [
    { deployment: "chat", poolId: "pool-chat" },
    { deployment: "Embeddings", poolId: "pool-embeddings" },
  ],
  retry: { count: 2, intervalSeconds: 0, firstFastRetry: true, statusCodes: [429, 503] },
  retryAfterSeconds: 60,
  ...overrides,
});

describe("API policy rendering", () => {
  it("authenticates with the managed identity, drops the client key, and routes to the deployment's pool", () => {
    const policy = parseXml(renderApiPolicy(options()));
    expect(policy.tag).to.equal("policies");
    expect(policy.children.map((c) => c.tag)).to.deep.equal(["inbound", "backend", "outbound", "on-error"]);
    const inbound = child(policy, "inbound");
    expect(inbound.children.map((c) => c.tag)).to.deep.equal([
      "base",
      "set-variable",
      "choose",
      "set-header",
      "set-query-parameter",
      "authentication-managed-identity",
      "set-backend-service",
    ]);
    expect(child(inbound, "set-header").attributes).to.deep.equal({ name: "api-key", "exists-action": "delete" });
    // The key is accepted as ?api-key= too; it must not reach Azure OpenAI that way either.
    expect(child(inbound, "set-query-parameter").attributes).to.deep.equal({
      name: "api-key",
      "exists-action": "delete",
    });
    expect(child(inbound, "authentication-managed-identity").attributes.resource).to.equal(COGNITIVE_SERVICES_RESOURCE);
    expect(child(inbound, "set-backend-service").attributes["backend-id"]).to.equal(
      '@((string)context.Variables["pool"])',
    );
  });

  it("reads the deployment from the path, case-insensitively, and guards operations without one", () => {
    const variable = child(child(parseXml(renderApiPolicy(options())), "inbound"), "set-variable");
    expect(variable.attributes).to.deep.equal({
      name: "deployment",
      value: '@(context.Request.MatchedParameters.GetValueOrDefault("deployment-id", "").ToLowerInvariant())',
    });
  });

  it("sends each deployment to its pool and answers any other with Azure OpenAI's 404, calling no backend", () => {
    const choose = child(child(parseXml(renderApiPolicy(options())), "inbound"), "choose");
    const whens = choose.children.filter((c) => c.tag === "when");
    expect(whens.map((w) => [w.attributes.condition, child(w, "set-variable").attributes])).to.deep.equal([
      ['@((string)context.Variables["deployment"] == "chat")', { name: "pool", value: "pool-chat" }],
      // Compared lower-case, as the variable holds it: a client asking for "EMBEDDINGS" is served.
      ['@((string)context.Variables["deployment"] == "embeddings")', { name: "pool", value: "pool-embeddings" }],
    ]);
    const answer = child(child(choose, "otherwise"), "return-response");
    expect(child(answer, "set-status").attributes).to.deep.equal({ code: "404", reason: "Not Found" });
    expect(child(child(answer, "set-header"), "value").text).to.equal("application/json");
    expect(JSON.parse(child(answer, "set-body").text)).to.deep.equal({
      error: {
        code: "DeploymentNotFound",
        message: "The API deployment for this resource does not exist. This gateway serves: chat, Embeddings.",
      },
    });
    expect(findAll(child(choose, "otherwise"), "forward-request")).to.deep.equal([]);
  });

  it("refuses to route a deployment name that could break out of the policy expression", () => {
    expect(() => renderApiPolicy(options({ routes: [{ deployment: 'x" || true || "', poolId: "p" }] }))).to.throw(
      "cannot be routed",
    );
  });

  it("retries 429 and 503 by picking from the pool again, with a buffered body", () => {
    const backend = child(parseXml(renderApiPolicy(options())), "backend");
    const retry = child(backend, "retry");
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

  it("adds back-off attributes only when configured", () => {
    const retry = findAll(
      parseXml(
        renderApiPolicy(
          options({
            retry: {
              count: 3,
              intervalSeconds: 1,
              deltaSeconds: 2,
              maxIntervalSeconds: 10,
              firstFastRetry: false,
              statusCodes: [429],
            },
          }),
        ),
      ),
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

  it("forwards once, without a retry element, when the retry count is 0", () => {
    const backend = child(parseXml(renderApiPolicy(options({ retry: { ...options().retry, count: 0 } }))), "backend");
    expect(backend.children.map((c) => c.tag)).to.deep.equal(["forward-request"]);
    expect(backend.children[0].attributes).to.include({ "buffer-response": "false", timeout: "240" });
  });

  it("keeps a backend's Retry-After on 429/503 errors and otherwise sends the trip duration", () => {
    const onError = child(parseXml(renderApiPolicy(options({ retryAfterSeconds: 45 }))), "on-error");
    const when = child(child(onError, "choose"), "when");
    expect(when.attributes.condition).to.contain("StatusCode == 429").and.to.contain("StatusCode == 503");
    const header = child(when, "set-header");
    expect(header.attributes).to.deep.equal({ name: "Retry-After", "exists-action": "skip" });
    expect(child(header, "value").text).to.equal("45");
  });

  it("escapes values so the result stays well-formed", () => {
    const xml = renderApiPolicy(options({ routes: [{ deployment: "chat", poolId: `pool"&<x>'` }] }));
    const pools = findAll(parseXml(xml), "set-variable").filter((e) => e.attributes.name === "pool");
    expect(pools.map((e) => e.attributes.value)).to.deep.equal([`pool"&<x>'`]);
    expect(escapeXml(`a&b<c>"d'`)).to.equal("a&amp;b&lt;c&gt;&quot;d&apos;");
  });

  it("refuses a template placeholder without a value", () => {
    expect(() => render("<a>{{missing}}</a>", {})).to.throw("no value for {{missing}}");
    expect(() => render("<a>{{{missing}}}</a>", {})).to.throw("no fragment for {{{missing}}}");
  });

  it("emits token metrics split by subscription, API and deployment, none of them read from the request URL", () => {
    const inbound = child(parseXml(renderApiPolicy(options({ tokenMetric: { namespace: "openai-apim" } }))), "inbound");
    const metric = child(inbound, "azure-openai-emit-token-metric");
    expect(metric.attributes.namespace).to.equal("openai-apim");
    const dims = metric.children.map((d) => d.attributes);
    expect(dims).to.deep.equal([
      { name: "Subscription ID" },
      { name: "API ID" },
      // The routing variable: set on every request the policy lets through.
      { name: "Deployment", value: '@((string)context.Variables["deployment"])' },
    ]);
    // Inbound runs before the pool picks a member: the request URL cannot name the account that answered.
    for (const d of dims) expect(d.value ?? "").to.not.contain("context.Request.Url");
  });

  it("forwards without buffering the response, with the timeout given, wherever it forwards", () => {
    for (const count of [0, 2]) {
      const xml = parseXml(renderApiPolicy(options({ retry: { ...options().retry, count }, timeoutSeconds: 120 })));
      const forwards = findAll(xml, "forward-request");
      expect(forwards.length).to.be.at.least(1);
      for (const f of forwards) expect(f.attributes).to.include({ "buffer-response": "false", timeout: "120" });
    }
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

  it("limits tokens per subscription key once the deployment is known, before any backend is chosen", () => {
    const inbound = child(
      parseXml(renderApiPolicy(options({ tokenLimit: { tokensPerMinute: 5000, estimatePromptTokens: false } }))),
      "inbound",
    );
    const tags = inbound.children.map((c) => c.tag);
    const limit = tags.indexOf("azure-openai-token-limit");
    // After routing (a 404 for an unknown deployment counts no tokens), before the backend is set.
    expect(limit).to.be.greaterThan(tags.indexOf("choose"));
    expect(limit).to.be.lessThan(tags.indexOf("set-backend-service"));
    expect(inbound.children[limit].attributes).to.include({
      "counter-key": "@(context.Subscription.Id)",
      "tokens-per-minute": "5000",
      "estimate-prompt-tokens": "false",
    });
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
