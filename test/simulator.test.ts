import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { parseIsoDuration } from "../common/duration";
import { ConfigError } from "../common/errors";
import { resolveRetryPolicy } from "../components/apimGatewayArgs";
import { runPlan } from "../offline/commands/plan";
import { parseStackConfig, type StackConfig } from "../program/stackConfig";
import { Breaker, type BreakerRule } from "../simulator/breaker";
import type { GatewayModel } from "../simulator/model";
import { EventQueue, seededRandom } from "../simulator/eventQueue";
import { ProvisionedLimiter, StandardLimiter } from "../simulator/limiters";
import {
  DEFAULT_PARAMETERS,
  arrivalTimes,
  parseScenario,
  retryDelayMs,
  simulate,
  type ScenarioInput,
} from "../simulator";
import { PoolSelector } from "../simulator/pool";
import { child, findAll, parseXml } from "../offline/plan/xml";

const REQUEST = { deployment: "chat", promptTokens: 300, maxTokens: 200, completionTokens: 100 };
const REQUEST_SHAPE = { promptTokens: 300, maxTokens: 200, completionTokens: 100 };

/**
 * The gateway a stack config describes, as the simulator sees it: every instance in the pool of each
 * deployment it hosts. Built directly (without running the program) to keep these tests fast; the
 * plan's own model of a deployed stack is checked in test/gateway-model.test.ts.
 */
function modelOf(config: StackConfig): GatewayModel {
  const b = config.circuitBreaker;
  const names = [...new Set(config.resolvedInstances.flatMap((i) => i.deployments.map((d) => d.name)))];
  return {
    pools: names.map((deployment) => ({
      deployment,
      members: config.resolvedInstances.flatMap((i) =>
        i.deployments
          .filter((d) => d.name === deployment)
          .map((d) => ({
            name: i.name,
            location: i.location,
            priority: i.priority,
            weight: i.weight,
            model: d.model,
            sku: d.sku,
            capacity: d.capacity,
          })),
      ),
    })),
    breaker: b.enabled
      ? {
          failureCount: b.failureCount,
          failurePercentage: b.failurePercentage,
          intervalMs: parseIsoDuration(b.interval)!,
          tripDurationMs: parseIsoDuration(b.tripDuration)!,
          statusRanges: b.statusCodes,
          acceptRetryAfter: b.acceptRetryAfter,
        }
      : undefined,
    retry: resolveRetryPolicy(config.retry, config.resolvedInstances.length),
    poolRetryAfterSeconds: Math.ceil(parseIsoDuration(b.tripDuration)! / 1000),
  };
}

/** A gateway over instances with one `chat` deployment each (Standard, 100K TPM unless overridden). */
function stack(
  instances: unknown[],
  extra: Record<string, unknown> = {},
  capacity = 100,
  model = "gpt-4o-mini",
): GatewayModel {
  return modelOf(
    parseStackConfig({
      location: "swedencentral",
      instances,
      deployments: [{ name: "chat", model, version: "1", sku: "Standard", capacity }],
      apim: { sku: "StandardV2", publisherEmail: "a@b.co", publisherName: "x" },
      ...extra,
    }),
  );
}

const scenario = (extra: Partial<ScenarioInput>): ScenarioInput => ({
  durationSeconds: 600,
  arrivals: { perMinute: 60 },
  request: REQUEST,
  ...extra,
});

describe("resilience model: behaviour", () => {
  it("sends traffic to a lower priority only while every higher-priority breaker is open", () => {
    const config = stack([
      { location: "swedencentral" },
      { location: "francecentral" },
      { location: "eastus2", priority: 2 },
    ]);
    const result = simulate(
      config,
      scenario({
        trace: true,
        faults: [
          { backend: "swedencentral", fromSeconds: 60, status: 500 },
          { backend: "francecentral", fromSeconds: 120, status: 500 },
        ],
      }),
    );
    const { calls, trips } = result.trace!;
    const open = (backend: string, unit: number, t: number) =>
      trips.some((x) => x.backend === backend && x.unit === unit && x.atMs <= t && t < x.untilMs);
    const spilled = calls.filter((c) => c.backend === "eastus2/chat");
    expect(spilled.length).to.be.greaterThan(100);
    for (const call of spilled) {
      expect(
        open("swedencentral/chat", call.unit, call.atMs) && open("francecentral/chat", call.unit, call.atMs),
        `call at ${call.atMs}`,
      ).to.equal(true);
    }
    expect(result.firstCallMs["eastus2/chat"]).to.be.at.least(
      Math.max(result.firstTripMs["swedencentral/chat"]!, result.firstTripMs["francecentral/chat"]!),
    );
    // While only Sweden failed, France absorbed everything.
    expect(calls.filter((c) => c.backend === "eastus2/chat" && c.atMs < 120_000)).to.deep.equal([]);
  });

  describe("spill-over from a saturated priority-1 instance", () => {
    // 5K TPM at priority 1 cannot carry 30 requests x 500 tokens per minute; 100K TPM at priority 2 can.
    const instances = [
      { location: "swedencentral", deployments: { chat: { capacity: 5 } } },
      { location: "francecentral", priority: 2 },
    ];
    const run = (extra: Record<string, unknown>) =>
      simulate(stack(instances, extra), scenario({ arrivals: { perMinute: 30 } }));

    it("serves everything with the breaker (on 429, honouring Retry-After) and the retry", () => {
      const both = run({});
      expect(both.successRate).to.equal(1);
      expect(both.callsPerBackend["francecentral/chat"]).to.be.greaterThan(both.callsPerBackend["swedencentral/chat"]);
    });

    it("fails without a breaker: the retry picks the saturated instance again", () => {
      const noBreaker = run({ circuitBreaker: { enabled: false } });
      expect(noBreaker.callsPerBackend["francecentral/chat"]).to.equal(0);
      expect(noBreaker.successRate).to.be.below(0.5);
      expect(noBreaker.statusCounts["429"]).to.be.greaterThan(0);
    });

    it("leaks 429s to clients without a retry, each time the saturated instance reopens", () => {
      const noRetry = run({ retry: { count: 0 } });
      expect(noRetry.successRate).to.be.below(1);
      expect(noRetry.statusCounts["429"]).to.be.greaterThan(0);
      expect(noRetry.successRate).to.be.above(run({ circuitBreaker: { enabled: false } }).successRate);
    });
  });

  it("lets more failures through before failover as gateway units are added (breakers are per unit)", () => {
    const config = stack([{ location: "swedencentral" }, { location: "francecentral" }], {
      circuitBreaker: { failureCount: 3, interval: "PT1M" },
    });
    const failures = [1, 2, 4].map((units) => {
      const window = simulate(
        config,
        scenario({
          gatewayUnits: units,
          arrivals: { perMinute: 240 },
          faults: [{ backend: "swedencentral", fromSeconds: 60, status: 500 }],
        }),
      ).faultWindows[0];
      expect(window.failoverMs, `${units} units`).to.not.equal(null);
      return window.backendFailuresBeforeFailover;
    });
    expect(failures).to.deep.equal([3, 6, 12]);
  });

  describe("a backend answering 429 with a one-day Retry-After", () => {
    const faults = [{ backend: "francecentral", fromSeconds: 60, status: 429 as const, retryAfterSeconds: 86_400 }];
    const callsAfterFault = (acceptRetryAfter: boolean) => {
      const config = stack([{ location: "swedencentral" }, { location: "francecentral" }], {
        circuitBreaker: { acceptRetryAfter },
      });
      const result = simulate(
        config,
        scenario({ durationSeconds: 1800, arrivals: { perMinute: 24 }, faults, trace: true }),
      );
      return result.trace!.calls.filter((c) => c.backend === "francecentral/chat" && c.atMs >= 60_000).length;
    };

    it("is excluded for the rest of the run when the breaker accepts Retry-After", () => {
      expect(callsAfterFault(true)).to.equal(1);
    });

    it("is called again after every trip duration when it does not", () => {
      expect(callsAfterFault(false)).to.be.greaterThan(20);
    });
  });

  it("answers 503 from the pool, without a backend call, when every breaker is open", () => {
    const config = stack([{ location: "swedencentral" }]);
    const result = simulate(config, scenario({ faults: [{ backend: "swedencentral", fromSeconds: 0, status: 500 }] }));
    expect(result.statusCounts["503"]).to.be.greaterThan(0);
    expect(result.callsPerBackend["swedencentral/chat"]).to.equal(result.breakerTrips["swedencentral/chat"]);
  });

  it("simulates the retry the deployed API policy performs", async () => {
    const { model, topology } = await runPlan({ stack: "dev" });
    const result = simulate(
      model,
      scenario({ durationSeconds: 60, request: { ...REQUEST, deployment: "gpt-4o-mini" } }),
    );
    const [retry] = findAll(child(parseXml(topology.policyXml!), "backend"), "retry")
      .filter((r) => r.children.some((c) => c.attributes["backend-id"] === '@((string)context.Variables["pool"])'))
      .map((r) => r.attributes);
    expect(result.retryPolicy.count).to.equal(Number(retry.count));
    expect(result.retryPolicy.count).to.equal(1); // two instances: one retry on the other
    expect(result.retryPolicy.statusCodes.map((code) => `context.Response.StatusCode == ${code}`)).to.deep.equal(
      [...retry.condition.matchAll(/context\.Response\.StatusCode == \d+/g)].map((m) => m[0]),
    );
    expect(result.retryPolicy.firstFastRetry).to.equal(retry["first-fast-retry"] === "true");
  });

  it("serves a provisioned deployment from its bucket and spills to pay-as-you-go when it is full", () => {
    const config = modelOf(
      parseStackConfig({
        location: "swedencentral",
        instances: [
          { location: "swedencentral", deployments: { chat: { sku: "ProvisionedManaged", capacity: 1 } } },
          { location: "francecentral", priority: 2 },
        ],
        deployments: [{ name: "chat", model: "gpt-4o", version: "1", sku: "GlobalStandard", capacity: 300 }],
        apim: { sku: "StandardV2", publisherEmail: "a@b.co", publisherName: "x" },
      }),
    );
    // 1 PTU of gpt-4o = 2,500 input TPM; 60 calls x (300 + 3 x 100) = 36,000 equivalents per minute.
    const result = simulate(config, scenario({ durationSeconds: 900 }));
    expect(result.successRate).to.equal(1);
    expect(result.callsPerBackend["swedencentral/chat"]).to.be.greaterThan(0);
    expect(result.callsPerBackend["francecentral/chat"]).to.be.greaterThan(
      result.callsPerBackend["swedencentral/chat"],
    );
  });

  it("reports on a run with more client requests than a function can take arguments (150,000) [heavy]", () => {
    const config = stack([{ location: "swedencentral" }], {}, 1_000_000);
    const result = simulate(config, scenario({ durationSeconds: 60, arrivals: { perMinute: 150_000 } }));
    expect(result.clientRequests).to.be.within(149_000, 150_000);
    expect(result.timeline.seconds).to.be.at.least(60);
  });

  it("lets clients retry with the gateway's Retry-After", () => {
    const config = stack([{ location: "swedencentral" }], {}, 5);
    const without = simulate(config, scenario({ arrivals: { perMinute: 20 } }));
    const withRetries = simulate(config, scenario({ arrivals: { perMinute: 20 }, clientRetries: 3 }));
    expect(withRetries.successRate).to.be.above(without.successRate);
  });
});

describe("resilience model: the gateway's own timeout", () => {
  it("waits as long as the policy's forward-request timeout for a silent backend, not the parameter's default", () => {
    const silent = scenario({
      durationSeconds: 120,
      trace: true,
      faults: [{ backend: "swedencentral", fromSeconds: 0, status: "timeout" }],
    });
    const waits = (model: GatewayModel) =>
      simulate(model, silent)
        .trace!.calls.filter((c) => c.backend === "swedencentral/chat")
        .map((c) => c.answeredAtMs - c.atMs);
    const base = stack([{ location: "swedencentral" }, { location: "francecentral" }]);
    expect(new Set(waits({ ...base, backendTimeoutSeconds: 45 }))).to.deep.equal(new Set([45_000]));
    expect(new Set(waits(base))).to.deep.equal(new Set([300_000]));
    // A scenario that sets the parameter itself asks "what if": it wins over the gateway's.
    const whatIf = simulate(
      { ...base, backendTimeoutSeconds: 45 },
      { ...silent, parameters: { backendTimeoutMs: 5_000 } },
    ).trace!.calls.filter((c) => c.backend === "swedencentral/chat");
    expect(new Set(whatIf.map((c) => c.answeredAtMs - c.atMs))).to.deep.equal(new Set([5_000]));
  });
});

describe("resilience model: a breaker and a pool per deployment", () => {
  /** Two accounts, each hosting chat and embeddings; Sweden preferred. */
  const twoDeployments = (): GatewayModel =>
    modelOf(
      parseStackConfig({
        location: "swedencentral",
        instances: [{ location: "swedencentral" }, { location: "francecentral", priority: 2 }],
        deployments: [
          { name: "chat", model: "gpt-4o", version: "2024-11-20", sku: "GlobalStandard", capacity: 100 },
          { name: "embeddings", model: "text-embedding-3-small", version: "1", sku: "GlobalStandard", capacity: 100 },
        ],
        apim: { sku: "StandardV2", publisherEmail: "a@b.co", publisherName: "x" },
      }),
    );
  const traffic = [
    { deployment: "chat", arrivals: { perMinute: 20 }, request: REQUEST_SHAPE },
    {
      deployment: "embeddings",
      arrivals: { perMinute: 60 },
      request: { promptTokens: 200, maxTokens: 1, completionTokens: 0 },
    },
  ];

  it("keeps an account's other deployments in their pools when one deployment is blocked for a day", () => {
    const result = simulate(twoDeployments(), {
      durationSeconds: 600,
      traffic,
      faults: [
        { backend: "swedencentral", deployment: "chat", fromSeconds: 60, status: 429, retryAfterSeconds: 86_400 },
      ],
      trace: true,
    });
    const after = (backend: string) => result.trace!.calls.filter((c) => c.backend === backend && c.atMs >= 61_000);
    // chat left Sweden for the day after one call, and spilled over to France ...
    expect(after("swedencentral/chat")).to.deep.equal([]);
    expect(after("francecentral/chat").length).to.be.greaterThan(150);
    // ... while Sweden kept every embeddings request, its breaker never tripping.
    expect(after("swedencentral/embeddings").length).to.be.greaterThan(500);
    expect(after("francecentral/embeddings")).to.deep.equal([]);
    expect(result.breakerTrips["swedencentral/embeddings"]).to.equal(0);
    expect(result.streams.chat.successRate).to.equal(1);
    expect(result.streams.embeddings).to.deep.include({ deployment: "embeddings", successRate: 1 });
    expect(result.faultWindows[0]).to.deep.include({ backend: "swedencentral", deployment: "chat" });
    expect(result.faultWindows[0].successRateByStream).to.deep.equal({ chat: 1, embeddings: 1 });
  });

  it("lets a fault without a deployment hit every deployment of the account", () => {
    const result = simulate(twoDeployments(), {
      durationSeconds: 300,
      traffic,
      faults: [{ backend: "swedencentral", fromSeconds: 60, status: 500 }],
    });
    expect(result.breakerTrips["swedencentral/chat"]).to.be.greaterThan(0);
    expect(result.breakerTrips["swedencentral/embeddings"]).to.be.greaterThan(0);
  });

  it("names the stream whose deployment no pool serves, and a fault on a deployment the account does not host", () => {
    const problem = (input: unknown) => {
      try {
        simulate(twoDeployments(), input as ScenarioInput);
      } catch (err) {
        return (err as ConfigError).problems[0];
      }
      throw new Error("accepted");
    };
    expect(
      problem({ durationSeconds: 60, traffic: [traffic[0], { ...traffic[1], deployment: "gpt-5" }] }),
    ).to.deep.equal({
      key: "scenario.traffic[1].deployment",
      given: '"gpt-5"',
      allowed: "a deployment of the stack: chat, embeddings",
    });
    expect(
      problem({
        durationSeconds: 60,
        traffic,
        faults: [{ backend: "swedencentral", deployment: "images", fromSeconds: 1, status: 500 }],
      }),
    ).to.deep.include({ key: "scenario.faults[0].deployment", given: '"images"' });
    expect(problem({ durationSeconds: 60, traffic, arrivals: { perMinute: 1 } }).key).to.equal("scenario.traffic");
  });

  it("ships the isolation scenario: the prod example's Sweden keeps embeddings while its gpt-4o is blocked [heavy]", async () => {
    const scenario = parseScenario(
      parse(fs.readFileSync(path.join(__dirname, "..", "scenarios", "deployment-isolation.yaml"), "utf8")),
    );
    const { model } = await runPlan({ stack: "prod", stackFile: path.join(__dirname, "..", scenario.stackFile!) });
    const result = simulate(model, { ...scenario, trace: true });
    expect(result.streams["text-embedding-3-small"].successRate).to.equal(1);
    expect(result.breakerTrips["swedencentral/text-embedding-3-small"]).to.equal(0);
    const swedenEmbeddings = result.trace!.calls.filter((c) => c.backend === "swedencentral/text-embedding-3-small");
    expect(swedenEmbeddings.length).to.equal(result.streams["text-embedding-3-small"].clientRequests);
    // gpt-4o on Sweden: the one call per gateway unit that tripped its breaker for the day, then none.
    expect(result.trace!.calls.filter((c) => c.backend === "swedencentral/gpt-4o" && c.atMs >= 60_000)).to.have.length(
      2,
    );
    expect(result.streams["gpt-4o"].successRate).to.be.above(0.99);
  });
});

describe("resilience model: invariants over generated configs", () => {
  const random = seededRandom(20261127);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const regions = ["swedencentral", "francecentral", "eastus2", "westeurope", "uksouth"];

  for (let i = 0; i < 40; i++) {
    const n = 1 + Math.floor(random() * 4);
    const instances = Array.from({ length: n }, (_, k) => ({
      location: pick(regions),
      name: `i${k}`,
      priority: 1 + Math.floor(random() * 2),
      ...(random() < 0.3
        ? { deployments: { chat: { sku: "ProvisionedManaged", capacity: 1 + Math.floor(random() * 5) } } }
        : {}),
    }));
    const extra = {
      circuitBreaker: {
        enabled: random() < 0.85,
        acceptRetryAfter: random() < 0.7,
        failureCount: 1 + Math.floor(random() * 3),
      },
      retry: { count: Math.floor(random() * 4) },
    };
    const capacity = 1 + Math.floor(random() * 40);
    const input = scenario({
      durationSeconds: 60 * (1 + Math.floor(random() * 5)),
      gatewayUnits: 1 + Math.floor(random() * 3),
      seed: i,
      arrivals: { perMinute: 1 + Math.floor(random() * 200), pattern: pick(["even", "burst", "poisson"] as const) },
      faults:
        random() < 0.5
          ? [{ backend: "i0", fromSeconds: 30, toSeconds: 90, status: pick([429, 500, 503] as const) }]
          : [],
    });

    it(`holds for generated config #${i} (${n} instances)`, () => {
      const config = stack(instances, extra, capacity, "gpt-4o");
      const result = simulate(config, input);
      const served = result.statusCounts["200"] ?? 0;
      expect(result.successRate).to.be.within(0, 1);
      expect(served).to.be.at.most(result.clientRequests);
      expect(Object.values(result.statusCounts).reduce((a, b) => a + b, 0)).to.equal(result.clientRequests);
      expect(result.throughputFraction).to.be.within(0, 1);
      expect(result.callsPerRequest).to.be.at.most(1 + result.retryPolicy.count);
      expect(JSON.stringify(simulate(config, input))).to.equal(JSON.stringify(result));
    });
  }
});

describe("resilience model: parts", () => {
  it("Standard limiter: refuses past the per-window request budget and the token quota, with Retry-After", () => {
    // 6 RPM -> one call per 10 s window; 1,000 TPM.
    const limiter = new StandardLimiter(1000, 6, 10, 60);
    expect(limiter.admit(0, 100, 100)).to.deep.equal({ admitted: true, charged: 200 });
    expect(limiter.admit(5_000, 100, 100)).to.deep.equal({ admitted: false, retryAfterMs: 5_000 });
    expect(limiter.admit(10_000, 300, 300).admitted).to.equal(true);
    // 800 tokens in the window; 600 more fit only once both earlier calls have left it (at 70 s).
    expect(limiter.admit(20_000, 300, 300)).to.deep.equal({ admitted: false, retryAfterMs: 50_000 });
    expect(limiter.admit(60_000, 300, 300).admitted).to.equal(false);
    expect(limiter.admit(70_000, 300, 300).admitted).to.equal(true);
  });

  it("Provisioned limiter: admits below 100% utilisation, refunds unused output tokens, drains continuously", () => {
    const limiter = new ProvisionedLimiter(6_000, 1, 3); // 100 input-token equivalents per second
    expect(limiter.admit(0, 3_000, 1_000)).to.deep.equal({ admitted: true, charged: 6_000 });
    expect(limiter.admit(0, 10, 10)).to.deep.equal({ admitted: false, retryAfterMs: 1 });
    expect(limiter.complete(0, 6_000, 1_000, 0)).to.equal(3_000);
    expect(limiter.admit(0, 10, 10).admitted).to.equal(true);
  });

  const rule: BreakerRule = {
    failureCount: 2,
    intervalMs: 10_000,
    tripDurationMs: 60_000,
    statusRanges: [
      { min: 429, max: 429 },
      { min: 500, max: 599 },
    ],
    acceptRetryAfter: true,
  };

  it("Breaker: trips on the count within a sliding interval, for the trip duration", () => {
    const breaker = new Breaker(rule, DEFAULT_PARAMETERS);
    expect(breaker.record(0, 500, undefined, false)).to.equal(undefined);
    expect(breaker.record(10_000, 500, undefined, false)).to.equal(undefined); // the first fell out of the window
    expect(breaker.record(12_000, 200, undefined, false)).to.equal(undefined);
    expect(breaker.record(15_000, 503, undefined, false)).to.equal(75_000);
    expect(breaker.isOpen(74_999)).to.equal(true);
    expect(breaker.isOpen(75_000)).to.equal(false);
  });

  it("Breaker: honours, caps or extends Retry-After as parametrised", () => {
    const trip = (overrides: Partial<typeof DEFAULT_PARAMETERS>, retryAfterMs: number) => {
      const breaker = new Breaker({ ...rule, failureCount: 1 }, { ...DEFAULT_PARAMETERS, ...overrides });
      return breaker.record(0, 429, retryAfterMs, false);
    };
    expect(trip({}, 1_500)).to.equal(2_000); // Retry-After is whole seconds
    expect(trip({ breakerUsesRetryAfterMs: true }, 1_500)).to.equal(1_500);
    expect(trip({ retryAfterMode: "max" }, 1_500)).to.equal(60_000);
    expect(trip({ retryAfterCapSeconds: 300 }, 86_400_000)).to.equal(300_000);
    expect(
      new Breaker({ ...rule, failureCount: 1, acceptRetryAfter: false }, DEFAULT_PARAMETERS).record(
        0,
        429,
        5_000,
        false,
      ),
    ).to.equal(60_000);
  });

  it("Breaker: a percentage rule waits for the minimum number of calls", () => {
    const breaker = new Breaker(
      { ...rule, failureCount: undefined, failurePercentage: 50 },
      { ...DEFAULT_PARAMETERS, breakerMinimumCalls: 4 },
    );
    expect(breaker.record(0, 500, undefined, false)).to.equal(undefined);
    expect(breaker.record(1, 500, undefined, false)).to.equal(undefined);
    expect(breaker.record(2, 200, undefined, false)).to.equal(undefined);
    expect(breaker.record(3, 500, undefined, false)).to.equal(60_003);
  });

  it("Pool: prefers the lowest priority number and splits a group by weight, evenly interleaved", () => {
    const pool = new PoolSelector([
      { priority: 1, weight: 3 },
      { priority: 1, weight: 1 },
      { priority: 2, weight: 1 },
    ]);
    const picks = Array.from({ length: 8 }, () => pool.pick(() => false));
    expect(picks).to.deep.equal([0, 0, 1, 0, 0, 0, 1, 0]);
    expect(pool.pick((i) => i < 2)).to.equal(2);
    expect(pool.pick(() => true)).to.equal(undefined);
  });

  it("retry delays follow APIM's fixed, linear and exponential rules", () => {
    const base = { count: 5, intervalSeconds: 2, firstFastRetry: false, statusCodes: [429] };
    const random = () => 0.5;
    expect([1, 2, 3].map((n) => retryDelayMs(base, n, random))).to.deep.equal([2_000, 2_000, 2_000]);
    expect([1, 2, 3].map((n) => retryDelayMs({ ...base, deltaSeconds: 1 }, n, random))).to.deep.equal([
      2_000, 3_000, 4_000,
    ]);
    expect(
      [1, 2, 3].map((n) => retryDelayMs({ ...base, deltaSeconds: 1, maxIntervalSeconds: 6 }, n, random)),
    ).to.deep.equal([3_000, 5_000, 6_000]);
    expect(retryDelayMs({ ...base, firstFastRetry: true }, 1, random)).to.equal(0);
  });

  it("arrivals: even, burst within the first seconds of each minute, and seeded poisson", () => {
    const s = (arrivals: { perMinute: number; pattern?: "even" | "burst" | "poisson"; burstSeconds?: number }) => {
      const parsed = parseScenario(scenario({ durationSeconds: 120, arrivals }));
      return arrivalTimes(parsed.streams[0].arrivals, parsed.durationSeconds, parsed.seed);
    };
    expect(s({ perMinute: 4 })).to.deep.equal([0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000]);
    expect(s({ perMinute: 4, pattern: "burst", burstSeconds: 2 })).to.deep.equal([
      0, 500, 1_000, 1_500, 60_000, 60_500, 61_000, 61_500,
    ]);
    const poisson = s({ perMinute: 60, pattern: "poisson" });
    expect(poisson).to.deep.equal(s({ perMinute: 60, pattern: "poisson" }));
    expect(poisson.length).to.be.within(90, 150);
  });

  it("event queue: orders by time, then by insertion", () => {
    const queue = new EventQueue<string>();
    queue.push(5, "c");
    queue.push(1, "a");
    queue.push(5, "d");
    queue.push(1, "b");
    const order: string[] = [];
    for (let e = queue.pop(); e; e = queue.pop()) order.push(e.event);
    expect(order).to.deep.equal(["a", "b", "c", "d"]);
    expect(() => queue.push(1.5, "x")).to.throw("whole millisecond");
  });

  it("scenario errors name the key and what is allowed", () => {
    const config = stack([{ location: "swedencentral" }]);
    const error = (input: unknown) => {
      try {
        simulate(config, input as ScenarioInput);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as ConfigError).problems[0];
      }
      throw new Error("accepted");
    };
    expect(error(scenario({ request: { ...REQUEST, deployment: "gpt-5" } }))).to.deep.equal({
      key: "scenario.request.deployment",
      given: '"gpt-5"',
      allowed: "a deployment of the stack: chat",
    });
    expect(error(scenario({ faults: [{ backend: "mars", fromSeconds: 1, status: 500 }] })).key).to.equal(
      "scenario.faults[0].backend",
    );
    expect(error({ ...scenario({}), durationSeconds: 0 }).key).to.equal("scenario.durationSeconds");
    expect(error({ ...scenario({}), parameters: { breakerWindw: "fixed" } }).allowed).to.contain('"breakerWindow"');
  });
});
