import * as path from "node:path";
import { expect } from "chai";
import { ApimGateway } from "../components/apimGateway";
import { readScenario } from "../offline/commands/simulate";
import { teamWarnings } from "../offline/plan/checks";
import type { PlanResult } from "../offline/plan/plan";
import { summarize } from "../offline/plan/summary";
import { runMocked, type ProgramRun } from "../offline/runtime/recorder";
import { readStackFileAt } from "../offline/runtime/stackFile";
import { child, findAll, parseXml, type XmlElement } from "../offline/plan/xml";
import { parseScenario } from "../simulator/scenario";
import { simulate } from "../simulator/simulate";
import type { GatewayModel } from "../simulator/model";
import { existingBackend, input, ofType, planRun, programRun, TYPES } from "./helpers";

/*
 * Teams sharing one gateway, as the production example configures three of them: what each gets
 * (product, API link, subscription, secret key, product policy), what the plan says about their
 * budgets against capacity, and the fairness scenario (one team bursting, the others unaffected).
 */

const ROOT = path.resolve(__dirname, "..");
const PROD = path.join(ROOT, "Pulumi.prod.yaml.example");
const TEAMS = ["support-bot", "search", "analytics"];

const PRODUCT_POLICY = "azure-native:apimanagement:ProductPolicy";
const PRODUCT_API = "azure-native:apimanagement:ProductApi";

describe("teams (the production example: support-bot, search, analytics)", function () {
  this.timeout(60_000);
  let planned: PlanResult;
  let run: ProgramRun;
  before(async () => {
    planned = await planRun({ stack: "prod", stackFile: PROD });
    run = await programRun(readStackFileAt(PROD).config, "prod");
  });

  const policyOf = (team: string): XmlElement =>
    parseXml(
      String(
        input(
          run.resources.find((r) => r.type === PRODUCT_POLICY && input(r, "productId") === `team-${team}`)!,
          "value",
        ),
      ),
    );

  it("gives each team a product that needs an approved subscription, with the API in it, and no shared product", () => {
    const products = ofType(run.resources, TYPES.product);
    expect(products.map((p) => [p.name, input(p, "productId"), input(p, "displayName")])).to.deep.equal([
      ["gateway-team-support-bot", "team-support-bot", "Customer support assistant"],
      ["gateway-team-search", "team-search", "Enterprise search"],
      ["gateway-team-analytics", "team-analytics", "Analytics notebooks"],
    ]);
    for (const p of products) {
      expect(p.inputs).to.include({
        subscriptionRequired: true,
        approvalRequired: true,
        subscriptionsLimit: 1,
        state: "published",
      });
    }
    expect(ofType(run.resources, PRODUCT_API).map((l) => [input(l, "productId"), input(l, "apiId")])).to.deep.equal(
      TEAMS.map((t) => [`team-${t}`, "openai"]),
    );
  });

  it("gives each team one subscription on its product and exports the keys as one secret map", () => {
    const subscriptions = ofType(run.resources, TYPES.subscription);
    expect(subscriptions.map((s) => [input(s, "sid"), input(s, "scope"), input(s, "state")])).to.deep.equal(
      TEAMS.map((t) => [`team-${t}`, `/products/team-${t}`, "active"]),
    );
    for (const s of subscriptions) expect(s.additionalSecretOutputs).to.include.members(["primaryKey", "secondaryKey"]);
    const keys = run.outputs.teamSubscriptionKeys as Record<string, string>;
    expect(Object.keys(keys)).to.deep.equal(TEAMS);
    expect(new Set(Object.values(keys)).size).to.equal(3);
    expect(run.secretOutputs).to.include("teamSubscriptionKeys");
    expect(run.outputs.subscriptionKey).to.equal(undefined);
  });

  it("enforces each team's token rate and quota per subscription, outside reads of stored responses", () => {
    const limits = TEAMS.map((team) => findAll(policyOf(team), "azure-openai-token-limit")[0].attributes);
    expect(limits).to.deep.equal([
      {
        "counter-key": '@("team:" + context.Subscription.Id)',
        "tokens-per-minute": "150000",
        "token-quota": "100000000",
        "token-quota-period": "Daily",
        "estimate-prompt-tokens": "true",
        "remaining-tokens-header-name": "x-team-remaining-tokens",
        "remaining-quota-tokens-header-name": "x-team-remaining-quota-tokens",
      },
      {
        "counter-key": '@("team:" + context.Subscription.Id)',
        "tokens-per-minute": "150000",
        "estimate-prompt-tokens": "true",
        "remaining-tokens-header-name": "x-team-remaining-tokens",
      },
      {
        "counter-key": '@("team:" + context.Subscription.Id)',
        "tokens-per-minute": "60000",
        "estimate-prompt-tokens": "true",
        "remaining-tokens-header-name": "x-team-remaining-tokens",
      },
    ]);
    const when = findAll(policyOf("search"), "when").find((w) => findAll(w, "azure-openai-token-limit").length)!;
    expect(when.attributes.condition).to.equal(
      '@(context.Variables.GetValueOrDefault<string>("routing", "") != "response")',
    );
  });

  it("refuses a deployment the team may not call with Azure OpenAI's error format, before any backend", () => {
    const inbound = child(policyOf("search"), "inbound");
    expect(inbound.children[0].tag).to.equal("base");
    const when = findAll(inbound, "when").find((w) => findAll(w, "return-response").length)!;
    expect(when.attributes.condition).to.contain('!"|text-embedding-3-small|".Contains("|" + deployment + "|")');
    const answer = child(when, "return-response");
    expect(child(answer, "set-status").attributes).to.deep.equal({ code: "403", reason: "Forbidden" });
    expect(JSON.parse(child(answer, "set-body").text)).to.deep.equal({
      error: {
        code: "PermissionDenied",
        message: "Team search may not call this deployment. It may call: text-embedding-3-small.",
      },
    });
    expect(findAll(inbound, "forward-request")).to.deep.equal([]);
    // A team allowed everything has no such check.
    expect(findAll(policyOf("analytics"), "return-response")).to.deep.equal([]);
  });

  it("runs the team's product policy after the API policy knows the deployment, and charges tokens back by team", () => {
    const api = parseXml(planned.topology.policyXml!);
    const inbound = child(api, "inbound").children;
    const base = inbound.findIndex((c) => c.tag === "base");
    const deployment = inbound.findIndex((c) => c.tag === "set-variable" && c.attributes.name === "deployment");
    const routing = inbound.findIndex((c) => findAll(c, "set-variable").some((v) => v.attributes.name === "pool"));
    expect(base).to.be.greaterThan(deployment).and.greaterThan(routing);
    const team = inbound.find((c) => c.tag === "set-variable" && c.attributes.name === "team")!;
    expect(team.attributes.value).to.contain('context.Product.Id.StartsWith("team-")');
    expect(findAll(api, "dimension").map((d) => d.attributes.name)).to.include("Team");
  });

  it("lists only a team's deployments in its GET v1/models answer", () => {
    const models = findAll(parseXml(planned.topology.policyXml!), "when").find((w) =>
      w.attributes.condition?.includes('"/v1/models"'),
    )!;
    const answers = findAll(models, "set-body").map((b) =>
      (JSON.parse(b.text) as { data: { id: string }[] }).data.map((m) => m.id),
    );
    expect(answers).to.deep.equal([["gpt-4o"], ["text-embedding-3-small"], ["gpt-4o", "text-embedding-3-small"]]);
  });

  it("shows each team's limits against the capacity of what it may call", () => {
    const text = summarize(planned);
    expect(text).to.contain("Teams (3; keys: pulumi stack output teamSubscriptionKeys --show-secrets):");
    expect(text).to.contain("support-bot (Customer support assistant): gpt-4o; 150,000 TPM, 100,000,000 tokens daily");
    expect(text).to.contain("gpt-4o: teams support-bot, analytics may draw 210,000 TPM of 337,500 TPM");
    expect(planned.topology.teams.map((t) => [t.name, t.deployments, t.tokensPerMinute])).to.deep.equal([
      ["support-bot", ["gpt-4o"], 150000],
      ["search", ["text-embedding-3-small"], 150000],
      ["analytics", undefined, 60000],
    ]);
  });
});

describe("team warnings in the plan", () => {
  const model = (teams: GatewayModel["teams"]): GatewayModel => ({
    pools: [
      {
        deployment: "chat",
        members: ["a", "b"].map((name) => ({
          name,
          location: name === "a" ? "swedencentral" : "francecentral",
          priority: 1,
          weight: 1,
          model: "gpt-4o",
          sku: "GlobalStandard" as const,
          capacity: 100,
        })),
      },
    ],
    retry: { count: 1, intervalSeconds: 0, firstFastRetry: true, statusCodes: [429] },
    poolRetryAfterSeconds: 60,
    teams,
  });

  it("warns when the teams' rates for a deployment add up to more than its pool serves", () => {
    expect(
      teamWarnings(
        model([
          { name: "x", tokensPerMinute: 90_000 },
          { name: "y", tokensPerMinute: 50_000 },
        ]),
      ),
    ).to.deep.equal([]);
    const over = teamWarnings(
      model([
        { name: "x", tokensPerMinute: 150_000 },
        { name: "y", tokensPerMinute: 80_000 },
      ]),
    );
    expect(over).to.include(
      "Deployment chat is oversubscribed: teams x, y may use 230,000 TPM together, more than its pool serves (200,000 TPM); at their limits they share what there is through 429s.",
    );
  });

  it("warns when one team's rate exceeds what the pool serves without its largest member", () => {
    expect(teamWarnings(model([{ name: "x", tokensPerMinute: 120_000 }]))).to.deep.equal([
      "Team x: its 120,000 TPM exceed what chat serves without its largest instance (100,000 TPM, N-1): after one instance is lost the team alone can saturate it.",
    ]);
    expect(teamWarnings(model([{ name: "x", tokensPerMinute: 100_000 }]))).to.deep.equal([]);
  });

  it("warns when a team without a rate limit shares a deployment, and ignores teams that may not call it", () => {
    expect(teamWarnings(model([{ name: "x" }, { name: "y", tokensPerMinute: 10_000 }]))).to.deep.equal([
      "Deployment chat: team x has no token rate limit and can take all of its 200,000 TPM from y.",
    ]);
    expect(teamWarnings(model([{ name: "x", deployments: ["other"], tokensPerMinute: 500_000 }]))).to.deep.equal([]);
  });
});

describe("teams: Entra ID applications and keys off", () => {
  const entraGateway = (subscriptionKey: boolean) =>
    runMocked({ config: {} }, () => {
      const gw = new ApimGateway("gw", {
        resourceGroupName: "rg",
        sku: { name: "StandardV2" },
        publisherEmail: "a@contoso.com",
        publisherName: "Contoso",
        backends: [existingBackend("sweden", "swedencentral", 1, 1, ["chat", "embeddings"])],
        clientAuth: { subscriptionKey, entraId: { tenantId: "contoso.onmicrosoft.com" } },
        teams: [
          {
            name: "bots",
            deployments: ["chat"],
            tokensPerMinute: 1000,
            entraClientIds: ["AAAAAAAA-2222-3333-4444-555555555555"],
          },
          { name: "batch", tokensPerMinute: 500 },
        ],
      });
      return { keys: gw.teamSubscriptionKeys };
    });

  it("applies a team's rules to its Entra ID applications in the API policy, counted per team, and refuses apps in no team", async () => {
    const run = await entraGateway(true);
    const api = parseXml(String(input(ofType(run.resources, TYPES.apiPolicy)[0], "value")));
    const team = findAll(api, "set-variable").find((v) => v.attributes.name === "team")!;
    expect(team.attributes.value).to.contain(
      'if ("|aaaaaaaa-2222-3333-4444-555555555555|".Contains("|" + app + "|")) { return "bots"; }',
    );
    const block = findAll(api, "when").find(
      (w) =>
        w.attributes.condition === '@(context.Subscription == null && (string)context.Variables["team"] == "bots")',
    )!;
    expect(findAll(block, "azure-openai-token-limit")[0].attributes).to.include({
      "counter-key": '@("team:bots")',
      "tokens-per-minute": "1000",
    });
    expect(JSON.parse(findAll(block, "set-body")[0].text).error.code).to.equal("PermissionDenied");
    const noTeam = findAll(api, "when").find(
      (w) => w.attributes.condition === '@(context.Subscription == null && (string)context.Variables["team"] == "")',
    )!;
    expect(child(child(noTeam, "return-response"), "set-status").attributes.code).to.equal("403");
    // Key callers of both teams still get products and keys.
    expect(Object.keys(run.outputs.keys as object)).to.deep.equal(["bots", "batch"]);
  });

  it("creates no products with keys off: Entra ID teams live in the API policy only", async () => {
    const run = await entraGateway(false);
    expect(ofType(run.resources, TYPES.product)).to.deep.equal([]);
    expect(ofType(run.resources, PRODUCT_POLICY)).to.deep.equal([]);
    expect(run.outputs.keys).to.deep.equal({});
  });
});

describe("the team-fairness scenario", function () {
  this.timeout(60_000);

  it("keeps the other teams' success rate while one team bursts to 3x its limit, and would not without limits", async () => {
    const scenario = parseScenario(readScenario(path.join(ROOT, "scenarios", "team-fairness.yaml")));
    const { model } = await planRun({ stack: "prod", stackFile: PROD });
    const limited = simulate(model, scenario);
    expect(limited.teams.analytics.successRate).to.be.at.least(0.99);
    expect(limited.teams.search.successRate).to.be.at.least(0.99);
    const bot = limited.teams["support-bot"];
    // 150,000 TPM of 1,200-token requests is 125 a minute: about a third of 375.
    expect(bot.successRate).to.be.within(0.25, 0.45);
    expect(bot.statusCounts["429"]).to.be.greaterThan(0);
    expect(bot.refusedAtGateway.tokenRate).to.be.greaterThan(0);
    expect(bot.retryAfterMs!.min).to.be.greaterThan(0);
    expect(bot.retryAfterMs!.max).to.be.at.most(60_000);
    // The same burst against the same gateway without team limits takes gpt-4o from analytics too.
    const open = simulate({ ...model, teams: model.teams!.map((t) => ({ name: t.name })) }, scenario);
    expect(open.teams.analytics.successRate).to.be.below(limited.teams.analytics.successRate - 0.1);
  });
});
