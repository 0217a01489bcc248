import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parse } from "yaml";
import { parseIsoDuration } from "../common/duration";
import { readStackFile, toEngineConfig } from "../offline/runtime/stackFile";
import { configError } from "./helpers";
import { parseEngineConfig, parseStackConfig, type StackConfig } from "../program/stackConfig";

type Raw = Record<string, unknown>;

/** A valid raw config; each malformed case below breaks exactly one thing in a fresh copy. */
function base(): Raw {
  return {
    location: "swedencentral",
    // Two regions that offer gpt-4o-mini 2024-07-18 with the default (Standard) SKU.
    instances: [{ location: "swedencentral" }, { location: "eastus2" }],
    deployments: [{ name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18" }],
    apim: { sku: "BasicV2", publisherEmail: "platform@contoso.com", publisherName: "Contoso" },
  };
}

interface Case {
  what: string;
  mutate: (raw: Raw) => void;
  key: string;
  /** Text the "allowed" half must contain. */
  allowed?: string;
  /** Text the "given" half must contain. */
  given?: string;
}

const inst = (raw: Raw) => raw.instances as Raw[];
const dep = (raw: Raw) => raw.deployments as Raw[];
const apim = (raw: Raw) => raw.apim as Raw;

const cases: Case[] = [
  { what: "instances missing", mutate: (r) => delete r.instances, key: "openai-apim:instances", given: "nothing" },
  { what: "instances empty", mutate: (r) => (r.instances = []), key: "openai-apim:instances", allowed: "1 to 30" },
  {
    what: "31 instances",
    mutate: (r) =>
      (r.instances = Array.from({ length: 31 }, (_, i) => ({ location: "swedencentral", name: `sc-${i}` }))),
    key: "openai-apim:instances",
    allowed: "at most 30",
  },
  {
    what: "a region typo",
    mutate: (r) => (inst(r)[0].location = "swedencentrl"),
    key: "openai-apim:instances[0].location",
    given: '"swedencentrl"',
    allowed: 'did you mean "swedencentral"',
  },
  {
    what: "a region as a number",
    mutate: (r) => (inst(r)[0].location = 42),
    key: "openai-apim:instances[0].location",
    given: "42",
  },
  {
    what: "priority above 100",
    mutate: (r) => (inst(r)[1].priority = 101),
    key: "openai-apim:instances[1].priority",
    allowed: "0 to 100",
  },
  { what: "negative priority", mutate: (r) => (inst(r)[0].priority = -1), key: "openai-apim:instances[0].priority" },
  { what: "fractional priority", mutate: (r) => (inst(r)[0].priority = 1.5), key: "openai-apim:instances[0].priority" },
  {
    what: "weight above 100",
    mutate: (r) => (inst(r)[0].weight = 150),
    key: "openai-apim:instances[0].weight",
    allowed: "0 to 100",
  },
  {
    what: "a weight on only part of a priority group",
    mutate: (r) => (inst(r)[0].weight = 70),
    key: "openai-apim:instances[1].weight",
    allowed: "all or none",
  },
  {
    what: "a misspelled instance key",
    mutate: (r) => (inst(r)[0].prority = 2),
    key: "openai-apim:instances[0]",
    given: '"prority"',
    allowed: '"priority"',
  },
  {
    what: "two instances in one region without names",
    mutate: (r) => (inst(r)[1].location = "swedencentral"),
    key: "openai-apim:instances[1].location",
    allowed: "distinct `name`s",
  },
  {
    what: "an instance name with capitals",
    mutate: (r) => (inst(r)[0].name = "Sweden_1"),
    key: "openai-apim:instances[0].name",
  },
  {
    what: "an override of a deployment that does not exist",
    mutate: (r) => (inst(r)[0].deployments = { "gpt-5": { capacity: 5 } }),
    key: "openai-apim:instances[0].deployments.gpt-5",
    allowed: "gpt-4o-mini",
  },
  {
    what: "an override with an unknown SKU",
    mutate: (r) => (inst(r)[0].deployments = { "gpt-4o-mini": { sku: "Provisioned" } }),
    key: "openai-apim:instances[0].deployments.gpt-4o-mini.sku",
    allowed: "ProvisionedManaged",
  },
  {
    what: "enabled as text",
    mutate: (r) => (inst(r)[0].deployments = { "gpt-4o-mini": { enabled: "no" } }),
    key: "openai-apim:instances[0].deployments.gpt-4o-mini.enabled",
    allowed: "true or false",
  },
  {
    what: "a deployment no instance hosts",
    mutate: (r) => {
      inst(r)[0].deployments = { "gpt-4o-mini": { enabled: false } };
      inst(r)[1].deployments = { "GPT-4O-MINI": { enabled: false } };
    },
    key: "openai-apim:deployments[0].name",
    allowed: "at least one instance hosts",
  },
  {
    what: "an instance that hosts nothing",
    mutate: (r) => (inst(r)[1].deployments = { "gpt-4o-mini": { enabled: false } }),
    key: "openai-apim:instances[1].deployments",
    allowed: "remove the instance instead",
  },
  {
    what: "two overrides of one deployment, differing in case",
    mutate: (r) => (inst(r)[0].deployments = { "gpt-4o-mini": { capacity: 5 }, "GPT-4o-mini": { capacity: 7 } }),
    key: "openai-apim:instances[0].deployments.GPT-4o-mini",
    allowed: 'one override per deployment: "gpt-4o-mini" already names it',
  },
  {
    what: "deployments missing",
    mutate: (r) => delete r.deployments,
    key: "openai-apim:deployments",
    given: "nothing",
  },
  {
    what: "a deployment name with a space",
    mutate: (r) => (dep(r)[0].name = "gpt 4o"),
    key: "openai-apim:deployments[0].name",
  },
  {
    what: "duplicate deployment names (case-insensitive)",
    mutate: (r) => dep(r).push({ name: "GPT-4o-mini", model: "gpt-4o-mini", version: "2024-07-18" }),
    key: "openai-apim:deployments[1].name",
  },
  {
    what: "a deployment SKU that does not exist",
    mutate: (r) => (dep(r)[0].sku = "Premium"),
    key: "openai-apim:deployments[0].sku",
    allowed: "GlobalStandard",
  },
  {
    what: "zero capacity",
    mutate: (r) => (dep(r)[0].capacity = 0),
    key: "openai-apim:deployments[0].capacity",
    given: "0",
  },
  {
    what: "an unquoted model version",
    mutate: (r) => (dep(r)[0].version = 2024),
    key: "openai-apim:deployments[0].version",
    allowed: "quoted",
  },
  {
    what: "a deployment without model",
    mutate: (r) => delete dep(r)[0].model,
    key: "openai-apim:deployments[0].model",
  },
  {
    what: "a misspelled deployment key",
    mutate: (r) => (dep(r)[0].capcity = 5),
    key: "openai-apim:deployments[0]",
    allowed: '"capacity"',
  },
  {
    what: "an unknown version upgrade option",
    mutate: (r) => (dep(r)[0].versionUpgradeOption = "Always"),
    key: "openai-apim:deployments[0].versionUpgradeOption",
    allowed: "NoAutoUpgrade",
  },
  { what: "apim missing", mutate: (r) => delete r.apim, key: "openai-apim:apim", given: "nothing" },
  {
    what: "the Consumption tier",
    mutate: (r) => (apim(r).sku = "Consumption"),
    key: "openai-apim:apim.sku",
    allowed: "no backend circuit breaker",
  },
  {
    what: "the Isolated tier",
    mutate: (r) => (apim(r).sku = "Isolated"),
    key: "openai-apim:apim.sku",
    allowed: "StandardV2",
  },
  {
    what: "two units of Developer",
    mutate: (r) => Object.assign(apim(r), { sku: "Developer", capacity: 2 }),
    key: "openai-apim:apim.capacity",
    allowed: "exactly 1",
  },
  {
    what: "eleven units of StandardV2",
    mutate: (r) => Object.assign(apim(r), { sku: "StandardV2", capacity: 11 }),
    key: "openai-apim:apim.capacity",
    allowed: "1 to 10",
  },
  {
    what: "a malformed publisher e-mail",
    mutate: (r) => (apim(r).publisherEmail = "platform@"),
    key: "openai-apim:apim.publisherEmail",
  },
  { what: "no publisher name", mutate: (r) => delete apim(r).publisherName, key: "openai-apim:apim.publisherName" },
  {
    what: "a breaker interval that is not ISO-8601",
    mutate: (r) => (r.circuitBreaker = { interval: "1 minute" }),
    key: "openai-apim:circuitBreaker.interval",
    allowed: "PT1M",
  },
  {
    what: "a breaker trip duration in years",
    mutate: (r) => (r.circuitBreaker = { tripDuration: "P1Y" }),
    key: "openai-apim:circuitBreaker.tripDuration",
  },
  {
    what: "a status range upside down",
    mutate: (r) => (r.circuitBreaker = { statusCodes: [{ min: 599, max: 500 }] }),
    key: "openai-apim:circuitBreaker.statusCodes[0]",
  },
  {
    what: "both a failure count and a percentage",
    mutate: (r) => (r.circuitBreaker = { failureCount: 3, failurePercentage: 50 }),
    key: "openai-apim:circuitBreaker.failurePercentage",
    allowed: "not both",
  },
  {
    what: "acceptRetryAfter as text",
    mutate: (r) => (r.circuitBreaker = { acceptRetryAfter: "yes" }),
    key: "openai-apim:circuitBreaker.acceptRetryAfter",
    allowed: "true or false",
  },
  { what: "51 retries", mutate: (r) => (r.retry = { count: 51 }), key: "openai-apim:retry.count", allowed: "0 to 50" },
  {
    what: "retrying on 200",
    mutate: (r) => (r.retry = { statusCodes: [200] }),
    key: "openai-apim:retry.statusCodes[0]",
  },
  {
    what: "no primary location",
    mutate: (r) => delete r.location,
    key: "azure-native:location",
    given: "nothing",
  },
  {
    what: "a primary location typo",
    mutate: (r) => (r.location = "westeurop"),
    key: "azure-native:location",
    allowed: '"westeurope"',
  },
  { what: "a tag value that is a number", mutate: (r) => (r.tags = { owner: 3 }), key: "openai-apim:tags.owner" },
  {
    what: "a tag name with a slash",
    mutate: (r) => (r.tags = { "team/owner": "x" }),
    key: "openai-apim:tags.team/owner",
  },
  {
    what: "51 tags",
    mutate: (r) => (r.tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "x"]))),
    key: "openai-apim:tags",
    allowed: "at most 50",
  },
  {
    what: "sampling above 100 %",
    mutate: (r) => (r.monitoring = { samplingPercentage: 150 }),
    key: "openai-apim:monitoring.samplingPercentage",
  },
  {
    what: "more body bytes than APIM logs",
    mutate: (r) => (r.monitoring = { logBodyBytes: 10000 }),
    key: "openai-apim:monitoring.logBodyBytes",
    allowed: "8192",
  },
  {
    what: "a retention below the minimum",
    mutate: (r) => (r.monitoring = { retentionInDays: 7 }),
    key: "openai-apim:monitoring.retentionInDays",
  },
  {
    what: "a zero token limit",
    mutate: (r) => (r.tokenLimit = { tokensPerMinute: 0 }),
    key: "openai-apim:tokenLimit.tokensPerMinute",
  },
  {
    what: "client auth that lets nobody in",
    mutate: (r) => (r.clientAuth = { subscriptionKey: false }),
    key: "openai-apim:clientAuth.subscriptionKey",
    allowed: "unless entraId is set",
  },
  {
    what: "an Entra ID tenant that is neither a GUID nor a domain",
    mutate: (r) => (r.clientAuth = { entraId: { tenantId: "contoso" } }),
    key: "openai-apim:clientAuth.entraId.tenantId",
    given: '"contoso"',
    allowed: "tenant id (GUID) or its domain",
  },
  {
    what: "an allowed client that is not an application id",
    mutate: (r) => (r.clientAuth = { entraId: { tenantId: "contoso.onmicrosoft.com", allowedClientIds: ["my-app"] } }),
    key: "openai-apim:clientAuth.entraId.allowedClientIds[0]",
    allowed: "GUID",
  },
  {
    what: "an empty audience list",
    mutate: (r) => (r.clientAuth = { entraId: { tenantId: "contoso.onmicrosoft.com", audiences: [] } }),
    key: "openai-apim:clientAuth.entraId.audiences",
  },
  {
    what: "a misspelt client auth key",
    mutate: (r) => (r.clientAuth = { entraID: { tenantId: "contoso.onmicrosoft.com" } }),
    key: "openai-apim:clientAuth",
    allowed: 'did you mean "entraId"',
  },
  {
    what: "a team with an unknown key",
    mutate: (r) => (r.teams = [{ name: "a", tokensPerMinut: 100 }]),
    key: "openai-apim:teams[0]",
    allowed: 'did you mean "tokensPerMinute"',
  },
  {
    what: "an empty list of teams (no product, no key for anyone)",
    mutate: (r) => (r.teams = []),
    key: "openai-apim:teams",
    allowed: "leave teams out for one shared subscription key",
  },
  {
    what: "a team name that is not DNS-like",
    mutate: (r) => (r.teams = [{ name: "Team A" }]),
    key: "openai-apim:teams[0].name",
    allowed: "lowercase letters",
  },
  {
    what: "two teams with one name",
    mutate: (r) => (r.teams = [{ name: "a" }, { name: "a" }]),
    key: "openai-apim:teams[1].name",
    allowed: "not used by teams[0]",
  },
  {
    what: "a team allowed a deployment that does not exist",
    mutate: (r) => (r.teams = [{ name: "a", deployments: ["gpt-5"] }]),
    key: "openai-apim:teams[0].deployments[0]",
    given: '"gpt-5"',
    allowed: "gpt-4o-mini",
  },
  {
    what: "a team quota smaller than a minute of its rate",
    mutate: (r) => (r.teams = [{ name: "a", tokensPerMinute: 1000, tokenQuota: { tokens: 500, period: "Daily" } }]),
    key: "openai-apim:teams[0].tokenQuota.tokens",
    allowed: "at least tokensPerMinute (1000)",
  },
  {
    what: "a quota period APIM does not have",
    mutate: (r) => (r.teams = [{ name: "a", tokenQuota: { tokens: 500, period: "Quarterly" } }]),
    key: "openai-apim:teams[0].tokenQuota.period",
    allowed: "Hourly, Daily, Weekly, Monthly, Yearly",
  },
  {
    what: "team Entra ID applications without Entra ID callers",
    mutate: (r) => (r.teams = [{ name: "a", entraClientIds: ["11111111-2222-3333-4444-555555555555"] }]),
    key: "openai-apim:teams[0].entraClientIds",
    allowed: "clientAuth.entraId",
  },
  {
    what: "one application in two teams",
    mutate: (r) => {
      r.clientAuth = { entraId: { tenantId: "contoso.onmicrosoft.com" } };
      const id = "11111111-2222-3333-4444-555555555555";
      r.teams = [
        { name: "a", entraClientIds: [id] },
        { name: "b", entraClientIds: [id.toUpperCase()] },
      ];
    },
    key: "openai-apim:teams[1].entraClientIds[0]",
    allowed: "not already in teams[0]",
  },
  {
    what: "more teams than the tier has products",
    mutate: (r) => {
      apim(r).sku = "Developer";
      r.teams = Array.from({ length: 101 }, (_, i) => ({ name: `t${i}` }));
    },
    key: "openai-apim:teams",
    allowed: "at most 100 teams on Developer",
  },
  {
    what: "an API path with a leading slash",
    mutate: (r) => (r.api = { path: "/openai" }),
    key: "openai-apim:api.path",
  },
  {
    what: "a spec link over plain http",
    mutate: (r) => (r.api = { specUrl: "http://example.com/spec.json" }),
    key: "openai-apim:api.specUrl",
    allowed: "https://",
  },
];

describe("stack config validation", () => {
  it("has at least 25 malformed cases in its table", () => {
    expect(cases.length).to.be.at.least(25);
  });

  for (const c of cases) {
    it(`rejects ${c.what}, naming ${c.key}`, () => {
      const raw = base();
      c.mutate(raw);
      const err = configError(() => parseStackConfig(raw));
      const problem = err.problems.find((p) => p.key === c.key);
      expect(problem, `problems were: ${err.message}`).to.not.equal(undefined);
      if (c.allowed) {
        expect(problem!.allowed).to.contain(c.allowed);
      }
      if (c.given) {
        expect(problem!.given).to.contain(c.given);
      }
      expect(err.message).to.contain(c.key);
      expect(pulumi.RunError.isInstance(err), "a RunError prints without a stack trace").to.equal(true);
    });
  }

  it("reports every problem at once", () => {
    const raw = base();
    inst(raw)[0].location = "swedencentrl";
    dep(raw)[0].capacity = 0;
    apim(raw).sku = "Consumption";
    const err = configError(() => parseStackConfig(raw));
    expect(err.problems.map((p) => p.key)).to.have.members([
      "openai-apim:instances[0].location",
      "openai-apim:deployments[0].capacity",
      "openai-apim:apim.sku",
    ]);
    expect(err.message).to.match(/^Invalid stack config: 3 problems/);
  });

  it("names an unknown key in the openai-apim namespace", () => {
    const engine = toEngineConfig({ ...base(), instance: [{ location: "swedencentral" }] });
    engine.config["azure-native:location"] = "swedencentral";
    const err = configError(() => parseEngineConfig(engine.config));
    const problem = err.problems.find((p) => p.key === "openai-apim:instance");
    expect(problem?.allowed).to.contain('did you mean "instances"');
  });

  it("names a structured key given as a bare word", () => {
    const err = configError(() =>
      parseEngineConfig({
        "azure-native:location": "swedencentral",
        "openai-apim:instances": "swedencentral",
        "openai-apim:deployments": JSON.stringify(base().deployments),
        "openai-apim:apim": JSON.stringify(base().apim),
      }),
    );
    expect(err.problems).to.deep.include({
      key: "openai-apim:instances",
      given: '"swedencentral"',
      allowed: "a list of 1 to 30 instances { location, priority?, weight? }",
    });
  });

  it("accepts a region added through additionalRegions, with the models declared available there", () => {
    const raw = base();
    raw.additionalRegions = ["marscentral"];
    inst(raw)[1].location = "marscentral";
    raw.additionalModelAvailability = [
      { model: "gpt-4o-mini", version: "2024-07-18", sku: "Standard", regions: ["marscentral"] },
    ];
    expect(parseStackConfig(raw).resolvedInstances[1].location).to.equal("marscentral");
  });
});

describe("stack config defaults", () => {
  let config: StackConfig;
  before(() => {
    config = parseStackConfig(base());
  });

  it("names instances after their region, at priority 1 with equal weights", () => {
    expect(config.resolvedInstances.map((i) => [i.name, i.priority, i.weight])).to.deep.equal([
      ["swedencentral", 1, 1],
      ["eastus2", 1, 1],
    ]);
  });

  it("gives deployments the Standard SKU, capacity 1 and an explicit upgrade option", () => {
    expect(config.resolvedInstances[0].deployments[0]).to.deep.equal({
      name: "gpt-4o-mini",
      model: "gpt-4o-mini",
      version: "2024-07-18",
      sku: "Standard",
      capacity: 1,
      versionUpgradeOption: "OnceCurrentVersionExpired",
    });
  });

  it("trips the breaker on one 429 or 5xx per minute for a minute, honouring Retry-After", () => {
    expect(config.circuitBreaker).to.deep.equal({
      enabled: true,
      failureCount: 1,
      interval: "PT1M",
      tripDuration: "PT1M",
      statusCodes: [
        { min: 429, max: 429 },
        { min: 500, max: 599 },
      ],
      acceptRetryAfter: true,
    });
  });

  it("leaves out a deployment an instance turns off, matching its name case-insensitively", () => {
    const raw = base();
    dep(raw).push({ name: "embeddings", model: "text-embedding-3-large", version: "1", capacity: 10 });
    inst(raw)[1].deployments = { EMBEDDINGS: { enabled: false }, "GPT-4o-Mini": { capacity: 7 } };
    const parsed = parseStackConfig(raw);
    expect(parsed.resolvedInstances.map((i) => i.deployments.map((d) => [d.name, d.capacity]))).to.deep.equal([
      [
        ["gpt-4o-mini", 1],
        ["embeddings", 10],
      ],
      [["gpt-4o-mini", 7]],
    ]);
  });

  it("applies per-instance deployment overrides to that instance only", () => {
    const raw = base();
    inst(raw)[0].deployments = { "gpt-4o-mini": { sku: "ProvisionedManaged", capacity: 25 } };
    const parsed = parseStackConfig(raw);
    expect(parsed.resolvedInstances[0].deployments[0]).to.include({ sku: "ProvisionedManaged", capacity: 25 });
    expect(parsed.resolvedInstances[1].deployments[0]).to.include({ sku: "Standard", capacity: 1 });
  });

  it("monitors by default without logging bodies", () => {
    expect(config.monitoring).to.deep.equal({
      enabled: true,
      samplingPercentage: 100,
      logBodyBytes: 0,
      retentionInDays: 30,
      openAiDiagnosticSettings: true,
    });
  });
});

describe("shipped stack files", () => {
  it("Pulumi.dev.yaml parses into two regions and a BasicV2 or Developer gateway", () => {
    const config = parseEngineConfig(readStackFile("dev").config);
    expect(config.instances.map((i) => i.location)).to.deep.equal(["swedencentral", "francecentral"]);
    expect(["BasicV2", "Developer"]).to.include(config.apim.sku);
    expect(config.deployments.map((d) => d.model)).to.deep.equal(["gpt-4o-mini"]);
  });

  it("Pulumi.prod.yaml.example parses into a PTU priority-1 instance spilling to pay-as-you-go", () => {
    const file = path.resolve(__dirname, "..", "Pulumi.prod.yaml.example");
    const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const config = parseEngineConfig(toEngineConfig(doc.config).config);
    expect(config.instances).to.have.length(3);
    const [ptu, ...paygo] = config.resolvedInstances;
    expect(ptu.priority).to.equal(1);
    expect(ptu.deployments.find((d) => d.name === "gpt-4o")?.sku).to.equal("GlobalProvisionedManaged");
    for (const instance of paygo) {
      expect(instance.priority).to.equal(2);
      expect(instance.deployments.find((d) => d.name === "gpt-4o")?.sku).to.equal("GlobalStandard");
    }
    expect(["Premium", "StandardV2"]).to.include(config.apim.sku);
  });
});

describe("ISO-8601 durations", () => {
  const table: [string, number | undefined][] = [
    ["PT1M", 60_000],
    ["PT10S", 10_000],
    ["PT0.5S", 500],
    ["PT1H30M", 5_400_000],
    ["P1D", 86_400_000],
    ["P1DT1S", 86_401_000],
    ["PT0S", undefined],
    ["P", undefined],
    ["PT", undefined],
    ["P1Y", undefined],
    ["1m", undefined],
  ];
  for (const [text, ms] of table) {
    it(`${text} -> ${ms ?? "invalid"}`, () => {
      expect(parseIsoDuration(text)).to.equal(ms);
    });
  }
});
