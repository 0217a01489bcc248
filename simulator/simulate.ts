import { inputTpmPerPtu, isProvisioned, PTU_OUTPUT_TOKEN_WEIGHT, rpmPerThousandTpm } from "../common/capacity";
import { ConfigError } from "../common/errors";
import type { RetryPolicy } from "../policies/apiPolicy";
import { Breaker } from "./breaker";
import { EventQueue, seededRandom } from "./eventQueue";
import { ProvisionedLimiter, StandardLimiter, TeamBudget } from "./limiters";
import type { GatewayModel, ModelPool } from "./model";
import type { ModelParameters } from "./parameters";
import { PoolSelector } from "./pool";
import { GatewayRegions } from "./regions";
import { areaOf } from "../common/regions";
import { report, type Member, type SimulationResult, type Trace } from "./report";
import { parseScenario, type Scenario, type ScenarioInput, type Stream } from "./scenario";

/*
 * A deterministic discrete-event model of the gateway this project deploys: per-unit pool selection
 * and circuit breakers, the API policy's retry, and Azure OpenAI's rate limits, for the gateway a
 * stack would deploy (see model.ts). Integer milliseconds; no I/O; the only randomness comes from
 * the scenario's seed.
 */

interface Call {
  client: number;
  unit: number;
  attempt: number;
  member?: number;
  placedAt?: number;
}

type Event =
  | { kind: "arrival"; client: number }
  | { kind: "attempt"; call: Call }
  | {
      kind: "answer";
      call: Call;
      member?: number;
      status: number;
      retryAfterMs?: number;
      timedOut: boolean;
      /** The answer came from an injected fault. */
      faulted?: boolean;
      charged?: number;
    }
  | { kind: "clientAnswer"; client: number; status: number; retryAfterMs?: number };

/** Arrival times (ms) of a stream's new client requests. */
export function arrivalTimes(arrivals: Stream["arrivals"], durationSeconds: number, seed: number): number[] {
  const end = durationSeconds * 1000;
  const { perMinute, pattern, burstSeconds } = arrivals;
  const times: number[] = [];
  if (pattern === "even") {
    const gap = 60_000 / perMinute;
    for (let k = 0; Math.round(k * gap) < end; k++) times.push(Math.round(k * gap));
  } else if (pattern === "burst") {
    const burstMs = burstSeconds * 1000;
    for (let minute = 0; minute * 60_000 < end; minute++) {
      const count = Math.floor((minute + 1) * perMinute) - Math.floor(minute * perMinute);
      for (let j = 0; j < count; j++) {
        const t = minute * 60_000 + Math.floor((j * burstMs) / count);
        if (t < end) times.push(t);
      }
    }
  } else {
    const random = seededRandom(seed);
    const mean = 60_000 / perMinute;
    for (let t = 0; ;) {
      t += -Math.log(1 - random()) * mean;
      if (Math.round(t) >= end) break;
      times.push(Math.round(t));
    }
  }
  return times;
}

/** The pools the streams use, in first-use order, and every stream's pool. */
function poolsFor(gateway: GatewayModel, scenario: Scenario): { pools: ModelPool[]; poolOfStream: number[] } {
  const pools: ModelPool[] = [];
  const poolOfStream = scenario.streams.map((stream, i) => {
    const pool = gateway.pools.find((x) => x.deployment.toLowerCase() === stream.deployment.toLowerCase());
    if (!pool) {
      throw new ConfigError("Invalid scenario", [
        {
          key: scenario.streams.length === 1 ? "scenario.request.deployment" : `scenario.traffic[${i}].deployment`,
          given: JSON.stringify(stream.deployment),
          allowed: `a deployment of the stack: ${gateway.pools.map((x) => x.deployment).join(", ")}`,
        },
      ]);
    }
    if (!pools.includes(pool)) pools.push(pool);
    return pools.indexOf(pool);
  });
  return { pools, poolOfStream };
}

/** Quota periods, as the simulation counts them (fixed periods from the start of the run). */
const PERIOD_MS: Record<string, number> = {
  Hourly: 3_600_000,
  Daily: 86_400_000,
  Weekly: 7 * 86_400_000,
  Monthly: 30 * 86_400_000,
  Yearly: 365 * 86_400_000,
};

/** What the gateway checks for a stream of a team before any backend: may it call, and its budget. */
interface TeamGate {
  name: string;
  allowed: boolean;
  budget: TeamBudget;
}

/** Each stream's team gate (one budget per team, shared by its streams), or undefined without a team. */
function teamGates(gateway: GatewayModel, scenario: Scenario): (TeamGate | undefined)[] {
  const budgets = new Map<string, TeamBudget>();
  return scenario.streams.map((stream, i) => {
    if (stream.team === undefined) return undefined;
    const team = (gateway.teams ?? []).find((t) => t.name === stream.team);
    if (!team) {
      throw new ConfigError("Invalid scenario", [
        {
          key: `scenario.traffic[${i}].team`,
          given: JSON.stringify(stream.team),
          allowed: gateway.teams?.length
            ? `a team of the stack: ${gateway.teams.map((t) => t.name).join(", ")}`
            : "nothing: the stack has no teams",
        },
      ]);
    }
    if (!budgets.has(team.name)) {
      const quota = team.tokenQuota
        ? { tokens: team.tokenQuota.tokens, periodMs: PERIOD_MS[team.tokenQuota.period] ?? PERIOD_MS.Daily }
        : undefined;
      budgets.set(team.name, new TeamBudget(team.tokensPerMinute, quota));
    }
    const allowed =
      team.deployments === undefined ||
      team.deployments.some((d) => d.toLowerCase() === stream.deployment.toLowerCase());
    return { name: team.name, allowed, budget: budgets.get(team.name)! };
  });
}

/** One member per (pool, account): its own quota, breaker and injected faults. */
function buildMembers(pools: readonly ModelPool[], scenario: Scenario, gatewayRegions: readonly string[]): Member[] {
  const p = scenario.parameters;
  const members = pools.flatMap((pool, poolIndex) =>
    pool.members.map((d): Member => {
      const base = {
        name: `${d.name}/${pool.deployment}`,
        source: d,
        deployment: pool.deployment,
        pool: poolIndex,
        faults: [],
      };
      if (isProvisioned(d.sku)) {
        const perPtu = inputTpmPerPtu(d.model) ?? p.defaultInputTpmPerPtu;
        if (perPtu === null) {
          throw new ConfigError("Invalid scenario", [
            {
              key: "scenario.parameters.defaultInputTpmPerPtu",
              given: "nothing",
              allowed: `input tokens per minute per PTU for ${d.model}, which has no documented figure`,
            },
          ]);
        }
        const tpm = d.capacity * perPtu;
        return {
          ...base,
          provisioned: true,
          tokensPerMinute: tpm,
          requestsPerMinute: null,
          limiter: new ProvisionedLimiter(tpm, p.ptuBucketMinutes, PTU_OUTPUT_TOKEN_WEIGHT),
        };
      }
      const tpm = d.capacity * 1000;
      const rpm = d.capacity * (rpmPerThousandTpm(d.model) ?? p.defaultRpmPerThousandTpm);
      return {
        ...base,
        provisioned: false,
        tokensPerMinute: tpm,
        requestsPerMinute: rpm,
        limiter: new StandardLimiter(tpm, rpm, p.rpmWindowSeconds, p.tpmWindowSeconds),
      };
    }),
  );
  scenario.faults.forEach((fault, index) => {
    if (fault.zone !== undefined) return; // a zone fault takes gateway units, not instances (regions.ts)
    const from = Math.round(fault.fromSeconds * 1000);
    const to = fault.toSeconds === undefined ? Number.POSITIVE_INFINITY : Math.round(fault.toSeconds * 1000);
    if (fault.backend === undefined) {
      // A whole region: its instances fail too (503, quickly, unless the fault says otherwise).
      const regional = { ...fault, status: fault.status ?? 503 };
      const inRegion = members.filter((m) => m.source.location === fault.region);
      if (inRegion.length === 0 && !gatewayRegions.includes(fault.region!)) {
        throw new ConfigError("Invalid scenario", [
          {
            key: `scenario.faults[${index}].region`,
            given: JSON.stringify(fault.region),
            allowed: `a region of the gateway or of an instance: ${[...new Set([...gatewayRegions, ...members.map((m) => m.source.location)])].join(", ")}`,
          },
        ]);
      }
      for (const m of inRegion) m.faults.push({ fault: regional, index, from, to });
      return;
    }
    const backend = fault.backend;
    const targets = members.filter(
      (m) =>
        (m.source.name === backend || m.source.location === backend) &&
        (fault.deployment === undefined || m.deployment.toLowerCase() === fault.deployment.toLowerCase()),
    );
    if (targets.length === 0) {
      const names = [...new Set(members.flatMap((m) => [m.source.name, m.source.location]))];
      throw new ConfigError("Invalid scenario", [
        {
          key: `scenario.faults[${index}].${members.some((m) => m.source.name === backend || m.source.location === backend) ? "deployment" : "backend"}`,
          given: JSON.stringify(fault.deployment !== undefined && names.includes(backend) ? fault.deployment : backend),
          allowed: names.includes(backend)
            ? `a deployment ${backend} hosts among the simulated streams: ${members
                .filter((m) => m.source.name === backend || m.source.location === backend)
                .map((m) => m.deployment)
                .join(", ")}`
            : `an instance name or location: ${names.join(", ")}`,
        },
      ]);
    }
    for (const m of targets) m.faults.push({ fault, index, from, to });
  });
  return members;
}

/** The gateway's wait before retry number `n` (1-based), as APIM's retry policy computes it. */
export function retryDelayMs(retry: RetryPolicy, n: number, random: () => number): number {
  if (retry.firstFastRetry && n === 1) return 0;
  const interval = retry.intervalSeconds * 1000;
  if (retry.deltaSeconds === undefined) return interval;
  const delta = retry.deltaSeconds * 1000;
  if (retry.maxIntervalSeconds === undefined) return interval + (n - 1) * delta;
  const jittered = delta * (0.8 + 0.4 * random());
  return Math.min(Math.round(interval + (2 ** n - 1) * jittered), retry.maxIntervalSeconds * 1000);
}

/** Runs a scenario against a gateway and reports what clients would see. */
export function simulate(gateway: GatewayModel, scenarioInput: ScenarioInput | Scenario): SimulationResult {
  const scenario = parseScenario(scenarioInput);
  const p: ModelParameters = scenario.parameters;
  // The gateway's own forward-request timeout when the model knows it (api.backendTimeoutSeconds),
  // unless the scenario sets one itself (to ask "what if").
  const timeoutMs =
    gateway.backendTimeoutSeconds !== undefined && !scenario.parametersSet.includes("backendTimeoutMs")
      ? gateway.backendTimeoutSeconds * 1000
      : p.backendTimeoutMs;
  const { pools, poolOfStream } = poolsFor(gateway, scenario);
  const gates = teamGates(gateway, scenario);
  const gatewayRejections: Record<string, { status: number; quota: boolean; retryAfterMs?: number }[]> = {};
  const places = new GatewayRegions(gateway, scenario, p, (a, b) => areaOf(a) !== undefined && areaOf(a) === areaOf(b));
  const members = buildMembers(
    pools,
    scenario,
    places.regions.map((r) => r.name),
  );
  const rule = gateway.breaker;
  const retry: RetryPolicy = gateway.retry;
  // What the policy's on-error answers the pool's own 503 with.
  const poolRetryAfterMs = gateway.poolRetryAfterSeconds * 1000;
  const random = seededRandom(scenario.seed ^ 0x5eed);

  // Members of each pool by their index in `members`: a pool picks among its own, and each has its
  // own breaker, so one deployment's trips leave the account's other deployments in their pools.
  const poolMembers = pools.map((_, i) => members.flatMap((m, index) => (m.pool === i ? [index] : [])));
  // Each unit has its own breakers, and its region's order of every pool.
  const units = places.units.map((place) => ({
    breakers: members.map(() => new Breaker(rule, p)),
    pools: poolMembers.map(
      (indices, pool) =>
        new PoolSelector(
          indices.map((i) => ({
            priority: places.priority(
              place.region,
              pools[pool].deployment,
              members[i].source.name,
              members[i].source.priority,
            ),
            weight: members[i].source.weight,
          })),
        ),
    ),
  }));
  const arrivals: number[] = [];
  const streamOf: number[] = [];
  scenario.streams.forEach((stream, i) => {
    for (const t of arrivalTimes(stream.arrivals, scenario.durationSeconds, scenario.seed + i)) {
      arrivals.push(t);
      streamOf.push(i);
    }
  });
  const clients = arrivals.length;
  const clientAttempts = new Array<number>(clients).fill(0);
  const finalStatus = new Array<number>(clients).fill(0);
  const finalAt = new Array<number>(clients).fill(0);
  const successCharge = new Array<number>(clients).fill(0);
  const callsPerMember = members.map(() => 0);
  const unitCalls = units.map(() => 0);
  const trips: { member: number; unit: number; at: number; until: number }[] = [];
  const faultFailures: { member: number; at: number }[] = [];
  const calls: Trace["calls"] = [];
  const firstCall: (number | null)[] = members.map(() => null);
  let backendCalls = 0;
  let lastAdmission = 0;

  const queue = new EventQueue<Event>();
  arrivals.forEach((t, client) => queue.push(t, { kind: "arrival", client }));

  const activeFault = (member: number, t: number) => members[member].faults.find((f) => t >= f.from && t < f.to);

  for (let next = queue.pop(); next; next = queue.pop()) {
    const { at: t, event } = next;
    switch (event.kind) {
      case "arrival": {
        // A team's policy runs before any backend: a deployment it may not call (403), its rate (429)
        // or quota (403) spent.
        const gate = gates[streamOf[event.client]];
        if (gate) {
          const verdict = gate.allowed
            ? gate.budget.admit(t, scenario.streams[streamOf[event.client]].request.promptTokens)
            : ({ admitted: false, status: 403, retryAfterMs: undefined } as const);
          if (!verdict.admitted) {
            (gatewayRejections[gate.name] ??= []).push({
              status: verdict.status,
              quota: gate.allowed && verdict.status === 403,
              retryAfterMs: verdict.retryAfterMs,
            });
            queue.push(t + p.gatewayOverheadMs, {
              kind: "clientAnswer",
              client: event.client,
              status: verdict.status,
              retryAfterMs: verdict.retryAfterMs,
            });
            break;
          }
        }
        const unit = places.unitFor(streamOf[event.client], t);
        if (unit === undefined) {
          // No working gateway where the client lands (a region or zone outage not yet routed around).
          queue.push(t + p.faultLatencyMs, { kind: "clientAnswer", client: event.client, status: 503 });
          break;
        }
        queue.push(t, { kind: "attempt", call: { client: event.client, unit, attempt: 0 } });
        break;
      }
      case "attempt": {
        const { call } = event;
        const unit = units[call.unit];
        const pool = poolOfStream[streamOf[call.client]];
        const indices = poolMembers[pool];
        let member: number | undefined;
        if (call.attempt > 0 && !p.retryRepicksMember && call.member !== undefined) {
          member = call.member;
        } else {
          const local = unit.pools[pool].pick((i) => unit.breakers[indices[i]].isOpen(t));
          member = local === undefined ? undefined : indices[local];
        }
        if (member === undefined) {
          // Every breaker of the deployment's pool open: the pool answers 503 itself, without calling a backend.
          queue.push(t, { kind: "answer", call, status: 503, retryAfterMs: poolRetryAfterMs, timedOut: false });
          break;
        }
        const { promptTokens, maxTokens, completionTokens } = scenario.streams[streamOf[call.client]].request;
        const placed = { ...call, member, placedAt: t };
        callsPerMember[member]++;
        unitCalls[call.unit]++;
        backendCalls++;
        firstCall[member] ??= t;
        const fault = activeFault(member, t);
        if (fault) {
          if (fault.fault.status === "timeout") {
            queue.push(t + timeoutMs, {
              kind: "answer",
              call: placed,
              member,
              status: 504,
              timedOut: true,
              faulted: true,
            });
          } else {
            const retryAfterMs =
              fault.fault.retryAfterSeconds === undefined
                ? undefined
                : Math.round(fault.fault.retryAfterSeconds * 1000);
            queue.push(t + p.faultLatencyMs, {
              kind: "answer",
              call: placed,
              member,
              status: fault.fault.status ?? 503,
              retryAfterMs,
              timedOut: false,
              faulted: true,
            });
          }
          break;
        }
        const admission = members[member].limiter.admit(t, promptTokens, maxTokens);
        if (admission.admitted) {
          lastAdmission = Math.max(lastAdmission, t);
          const latency = Math.round(p.firstTokenMs + completionTokens * p.perOutputTokenMs);
          queue.push(t + latency, {
            kind: "answer",
            call: placed,
            member,
            status: 200,
            timedOut: false,
            charged: admission.charged,
          });
        } else {
          queue.push(t + p.throttleLatencyMs, {
            kind: "answer",
            call: placed,
            member,
            status: 429,
            retryAfterMs: admission.retryAfterMs,
            timedOut: false,
          });
        }
        break;
      }
      case "answer": {
        const { call, member, status, retryAfterMs, timedOut } = event;
        let charged = 0;
        if (member !== undefined) {
          if (status === 200 && event.charged !== undefined) {
            const { maxTokens, completionTokens } = scenario.streams[streamOf[call.client]].request;
            charged = members[member].limiter.complete(t, event.charged, maxTokens, completionTokens);
          }
          if (event.faulted) {
            faultFailures.push({ member, at: t });
          }
          if (scenario.trace) {
            calls.push({
              atMs: call.placedAt ?? t,
              answeredAtMs: t,
              unit: call.unit,
              backend: members[member].name,
              status,
            });
          }
          const until = units[call.unit].breakers[member].record(t, status, retryAfterMs, timedOut);
          if (until !== undefined) trips.push({ member, unit: call.unit, at: t, until });
        }
        // Errors (a timeout) skip the retry policy and go to on-error, as in APIM.
        if (!timedOut && retry.statusCodes.includes(status) && call.attempt < retry.count) {
          queue.push(t + retryDelayMs(retry, call.attempt + 1, random), {
            kind: "attempt",
            call: { ...call, attempt: call.attempt + 1 },
          });
        } else {
          if (status === 200) {
            successCharge[call.client] = charged;
            gates[streamOf[call.client]]?.budget.consume(
              t,
              scenario.streams[streamOf[call.client]].request.completionTokens,
            );
          }
          queue.push(t + p.gatewayOverheadMs, { kind: "clientAnswer", client: call.client, status, retryAfterMs });
        }
        break;
      }
      case "clientAnswer": {
        const { client, status, retryAfterMs } = event;
        if (p.clientRetryStatuses.includes(status) && clientAttempts[client] < scenario.clientRetries) {
          clientAttempts[client]++;
          const backoff = Math.min(p.clientBackoffMs * 2 ** (clientAttempts[client] - 1), p.clientMaxBackoffMs);
          const honour =
            p.clientHonorsRetryAfter &&
            retryAfterMs !== undefined &&
            retryAfterMs <= p.clientMaxRetryAfterSeconds * 1000;
          queue.push(t + Math.round(honour ? retryAfterMs : backoff), { kind: "arrival", client });
        } else {
          finalStatus[client] = status;
          finalAt[client] = t;
        }
        break;
      }
    }
  }

  return report({
    scenario,
    members,
    retry,
    arrivals,
    streamOf,
    finalStatus,
    finalAt,
    successCharge,
    callsPerMember,
    backendCalls,
    trips,
    faultFailures,
    lastAdmission,
    unitCount: units.length,
    firstCall,
    calls,
    gatewayRejections,
    unitRegions: places.unitRegions(),
    unitCalls,
  });
}
