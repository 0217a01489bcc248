import { inputTpmPerPtu, isProvisioned, PTU_OUTPUT_TOKEN_WEIGHT, rpmPerThousandTpm } from "../components/capacity";
import { ConfigError, parseIsoDuration, type ResolvedInstance, type StackConfig } from "../components/config";
import { fallbackRetryAfterSeconds, resolveRetryPolicy, type RetryPolicy } from "../policies/apiPolicy";
import { Breaker, type BreakerRule } from "./breaker";
import { EventQueue, seededRandom } from "./eventQueue";
import { ProvisionedLimiter, StandardLimiter, type Limiter } from "./limiters";
import type { ModelParameters } from "./parameters";
import { PoolSelector } from "./pool";
import { parseScenario, type Fault, type Scenario, type ScenarioInput } from "./scenario";

/*
 * A deterministic discrete-event model of the gateway this project deploys: per-unit pool selection
 * and circuit breakers, the API policy's retry, and Azure OpenAI's rate limits, driven by the same
 * stack config `pulumi up` reads. Integer milliseconds; no I/O; the only randomness comes from the
 * scenario's seed.
 */

/** The part of a validated stack config the model reads. */
export type SimulatedStack = Pick<StackConfig, "resolvedInstances" | "circuitBreaker" | "retry">;

export interface FaultWindowResult {
  backend: string;
  status: number | "timeout";
  fromSeconds: number;
  toSeconds: number;
  /** Client requests that arrived during the fault. */
  requests: number;
  successRate: number;
  /** Client requests in the window that did not succeed. */
  clientFailures: number;
  /** From the fault's start until every gateway unit had the faulty backend's breaker open; null: never. */
  failoverMs: number | null;
  /** Failed calls to the faulty backend before that moment (or during the whole fault, without failover). */
  backendFailuresBeforeFailover: number;
}

export interface Timeline {
  /** One entry per second from 0. */
  seconds: number;
  /** New client requests per second. */
  offered: number[];
  /** Final client outcomes per second. */
  successes: number[];
  throttled: number[];
  unavailable: number[];
  otherErrors: number[];
  /** Per backend: gateway units with that backend's breaker open, sampled at each second. */
  breakersOpen: Record<string, number[]>;
}

/** Every backend call and breaker trip, when the scenario asks for `trace: true`. */
export interface Trace {
  /** A backend call: when the gateway made it, when the answer came, what it was. */
  calls: { atMs: number; answeredAtMs: number; unit: number; backend: string; status: number }[];
  trips: { backend: string; unit: number; atMs: number; untilMs: number }[];
}

export interface SimulationResult {
  deployment: string;
  durationSeconds: number;
  gatewayUnits: number;
  clientRequests: number;
  /** Client requests that finally got a 2xx. */
  successRate: number;
  /** Final status returned to clients, by code. */
  statusCounts: Record<string, number>;
  /** Client-visible latency, arrival to final answer, over all requests. */
  latencyMs: { p50: number; p95: number };
  latencyMsSuccess: { p50: number; p95: number };
  /** Tokens the deployments charged for successful requests, as a fraction of what they could serve. */
  throughputFraction: number;
  /** Backend calls per client request (retries included; the pool's own 503s are no backend call). */
  callsPerRequest: number;
  callsPerBackend: Record<string, number>;
  /** Per fault, in scenario order: time until every gateway unit failed over (null: never). */
  failoverMs: (number | null)[];
  faultWindows: FaultWindowResult[];
  breakerTrips: Record<string, number>;
  /** When each backend was first called and first tripped (null: never). */
  firstCallMs: Record<string, number | null>;
  firstTripMs: Record<string, number | null>;
  capacity: { tokensPerMinute: number; requestsPerMinute: number | null; offeredTokensPerMinute: number };
  retryPolicy: RetryPolicy;
  timeline: Timeline;
  trace?: Trace;
}

interface Member {
  name: string;
  instance: ResolvedInstance;
  limiter: Limiter;
  provisioned: boolean;
  tokensPerMinute: number;
  requestsPerMinute: number | null;
  faults: { fault: Fault; index: number; from: number; to: number }[];
}

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

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Arrival times (ms) of new client requests. */
export function arrivalTimes(scenario: Scenario): number[] {
  const end = scenario.durationSeconds * 1000;
  const { perMinute, pattern, burstSeconds } = scenario.arrivals;
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
    const random = seededRandom(scenario.seed);
    const mean = 60_000 / perMinute;
    for (let t = 0; ;) {
      t += -Math.log(1 - random()) * mean;
      if (Math.round(t) >= end) break;
      times.push(Math.round(t));
    }
  }
  return times;
}

function breakerRule(stack: SimulatedStack): BreakerRule | undefined {
  const b = stack.circuitBreaker;
  if (!b.enabled) return undefined;
  return {
    failureCount: b.failureCount,
    failurePercentage: b.failurePercentage,
    intervalMs: parseIsoDuration(b.interval) ?? 60_000,
    tripDurationMs: parseIsoDuration(b.tripDuration) ?? 60_000,
    statusRanges: b.statusCodes,
    acceptRetryAfter: b.acceptRetryAfter,
  };
}

function buildMembers(stack: SimulatedStack, scenario: Scenario): Member[] {
  const p = scenario.parameters;
  const { deployment } = scenario.request;
  const available = [...new Set(stack.resolvedInstances.flatMap((i) => i.deployments.map((d) => d.name)))];
  if (!available.includes(deployment)) {
    throw new ConfigError("Invalid scenario", [
      {
        key: "scenario.request.deployment",
        given: JSON.stringify(deployment),
        allowed: `a deployment of the stack: ${available.join(", ")}`,
      },
    ]);
  }
  const members = stack.resolvedInstances.map((instance): Member => {
    const d = instance.deployments.find((x) => x.name === deployment)!;
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
        name: instance.name,
        instance,
        provisioned: true,
        tokensPerMinute: tpm,
        requestsPerMinute: null,
        limiter: new ProvisionedLimiter(tpm, p.ptuBucketMinutes, PTU_OUTPUT_TOKEN_WEIGHT),
        faults: [],
      };
    }
    const tpm = d.capacity * 1000;
    const rpm = d.capacity * (rpmPerThousandTpm(d.model) ?? p.defaultRpmPerThousandTpm);
    return {
      name: instance.name,
      instance,
      provisioned: false,
      tokensPerMinute: tpm,
      requestsPerMinute: rpm,
      limiter: new StandardLimiter(tpm, rpm, p.rpmWindowSeconds, p.tpmWindowSeconds),
      faults: [],
    };
  });
  scenario.faults.forEach((fault, index) => {
    const targets = members.filter((m) => m.name === fault.backend || m.instance.location === fault.backend);
    if (targets.length === 0) {
      throw new ConfigError("Invalid scenario", [
        {
          key: `scenario.faults[${index}].backend`,
          given: JSON.stringify(fault.backend),
          allowed: `an instance name or location: ${[...new Set(members.flatMap((m) => [m.name, m.instance.location]))].join(", ")}`,
        },
      ]);
    }
    const from = Math.round(fault.fromSeconds * 1000);
    const to = fault.toSeconds === undefined ? Number.POSITIVE_INFINITY : Math.round(fault.toSeconds * 1000);
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

/** Runs a scenario against a stack config and reports what clients would see. */
export function simulate(stack: SimulatedStack, scenarioInput: ScenarioInput | Scenario): SimulationResult {
  const scenario = parseScenario(scenarioInput);
  const p: ModelParameters = scenario.parameters;
  const members = buildMembers(stack, scenario);
  const rule = breakerRule(stack);
  // The retry the rendered API policy performs, from the same function the gateway uses.
  const retry = resolveRetryPolicy(stack.retry, members.length);
  const poolRetryAfterMs =
    fallbackRetryAfterSeconds(rule?.tripDurationMs ?? parseIsoDuration(stack.circuitBreaker.tripDuration) ?? 60_000) *
    1000;
  const { promptTokens, maxTokens, completionTokens } = scenario.request;
  const random = seededRandom(scenario.seed ^ 0x5eed);

  const units = Array.from({ length: scenario.gatewayUnits }, () => ({
    breakers: members.map(() => new Breaker(rule, p)),
    pool: new PoolSelector(members.map((m) => ({ priority: m.instance.priority, weight: m.instance.weight }))),
  }));
  const arrivals = arrivalTimes(scenario);
  const clients = arrivals.length;
  const clientAttempts = new Array<number>(clients).fill(0);
  const finalStatus = new Array<number>(clients).fill(0);
  const finalAt = new Array<number>(clients).fill(0);
  const successCharge = new Array<number>(clients).fill(0);
  const callsPerMember = members.map(() => 0);
  const trips: { member: number; unit: number; at: number; until: number }[] = [];
  const faultFailures: { member: number; at: number }[] = [];
  const calls: Trace["calls"] = [];
  const firstCall: (number | null)[] = members.map(() => null);
  let backendCalls = 0;
  let nextUnit = 0;
  let lastAdmission = 0;

  const queue = new EventQueue<Event>();
  arrivals.forEach((t, client) => queue.push(t, { kind: "arrival", client }));

  const activeFault = (member: number, t: number) => members[member].faults.find((f) => t >= f.from && t < f.to);

  for (let next = queue.pop(); next; next = queue.pop()) {
    const { at: t, event } = next;
    switch (event.kind) {
      case "arrival": {
        queue.push(t, { kind: "attempt", call: { client: event.client, unit: nextUnit++ % units.length, attempt: 0 } });
        break;
      }
      case "attempt": {
        const { call } = event;
        const unit = units[call.unit];
        const member =
          call.attempt > 0 && !p.retryRepicksMember && call.member !== undefined
            ? call.member
            : unit.pool.pick((i) => unit.breakers[i].isOpen(t));
        if (member === undefined) {
          // Every breaker open: the pool answers 503 itself, without calling a backend.
          queue.push(t, { kind: "answer", call, status: 503, retryAfterMs: poolRetryAfterMs, timedOut: false });
          break;
        }
        const placed = { ...call, member, placedAt: t };
        callsPerMember[member]++;
        backendCalls++;
        firstCall[member] ??= t;
        const fault = activeFault(member, t);
        if (fault) {
          if (fault.fault.status === "timeout") {
            queue.push(t + p.backendTimeoutMs, {
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
              status: fault.fault.status,
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
          if (status === 200) successCharge[call.client] = charged;
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
  });
}

interface Outcome {
  scenario: Scenario;
  members: Member[];
  retry: RetryPolicy;
  arrivals: number[];
  finalStatus: number[];
  finalAt: number[];
  successCharge: number[];
  callsPerMember: number[];
  backendCalls: number;
  trips: { member: number; unit: number; at: number; until: number }[];
  faultFailures: { member: number; at: number }[];
  lastAdmission: number;
  unitCount: number;
  firstCall: (number | null)[];
  calls: Trace["calls"];
}

function report(o: Outcome): SimulationResult {
  const { scenario, members, arrivals, finalStatus, finalAt } = o;
  const p = scenario.parameters;
  const clients = arrivals.length;
  const succeeded = (c: number) => finalStatus[c] >= 200 && finalStatus[c] < 300;
  const successes = arrivals.filter((_, c) => succeeded(c)).length;

  const statusCounts: Record<string, number> = {};
  for (const status of [...finalStatus].sort((a, b) => a - b)) {
    statusCounts[String(status)] = (statusCounts[String(status)] ?? 0) + 1;
  }
  const latencies = arrivals.map((t, c) => finalAt[c] - t);
  const sortedAll = [...latencies].sort((a, b) => a - b);
  const sortedOk = latencies.filter((_, c) => succeeded(c)).sort((a, b) => a - b);

  // What the deployments could charge over the time admissions happened: whole token windows for
  // Standard quota; for a PTU bucket its depth, its drain, and the one call it lets overshoot.
  const runMs = Math.max(scenario.durationSeconds * 1000, o.lastAdmission + 1);
  const estimatePtu = scenario.request.promptTokens + PTU_OUTPUT_TOKEN_WEIGHT * scenario.request.maxTokens;
  const capacityOverRun = members.reduce((sum, m) => {
    if (m.provisioned) {
      return sum + m.tokensPerMinute * (runMs / 60_000 + p.ptuBucketMinutes) + estimatePtu;
    }
    const windows = Math.ceil(runMs / (p.tpmWindowSeconds * 1000));
    return sum + windows * ((m.tokensPerMinute * p.tpmWindowSeconds) / 60);
  }, 0);
  const charged = o.successCharge.reduce((a, b) => a + b, 0);

  const seconds = Math.ceil(Math.max(runMs, ...finalAt, 1) / 1000) + 1;
  const series = () => new Array<number>(seconds).fill(0);
  const timeline: Timeline = {
    seconds,
    offered: series(),
    successes: series(),
    throttled: series(),
    unavailable: series(),
    otherErrors: series(),
    breakersOpen: Object.fromEntries(members.map((m) => [m.name, series()])),
  };
  arrivals.forEach((t, c) => {
    timeline.offered[Math.floor(t / 1000)]++;
    const s = Math.floor(finalAt[c] / 1000);
    const status = finalStatus[c];
    if (succeeded(c)) timeline.successes[s]++;
    else if (status === 429) timeline.throttled[s]++;
    else if (status === 503) timeline.unavailable[s]++;
    else timeline.otherErrors[s]++;
  });
  for (const trip of o.trips) {
    const series = timeline.breakersOpen[members[trip.member].name];
    for (let s = Math.ceil(trip.at / 1000); s < seconds && s * 1000 < trip.until; s++) series[s]++;
  }

  const faultWindows = scenario.faults.map((fault, index): FaultWindowResult => {
    const from = Math.round(fault.fromSeconds * 1000);
    const to = fault.toSeconds === undefined ? scenario.durationSeconds * 1000 : Math.round(fault.toSeconds * 1000);
    const faulty = members.map((m, i) => (m.faults.some((f) => f.index === index) ? i : -1)).filter((i) => i >= 0);
    let failover: number | null = 0;
    for (let unit = 0; unit < o.unitCount && failover !== null; unit++) {
      for (const m of faulty) {
        const trip = o.trips.find((x) => x.unit === unit && x.member === m && x.at >= from && x.at < to);
        if (!trip) {
          failover = null;
          break;
        }
        failover = Math.max(failover, trip.at - from);
      }
    }
    const cutoff = failover === null ? to : from + failover;
    const inWindow = arrivals.map((_, c) => c).filter((c) => arrivals[c] >= from && arrivals[c] < to);
    const ok = inWindow.filter(succeeded).length;
    return {
      backend: fault.backend,
      status: fault.status,
      fromSeconds: fault.fromSeconds,
      toSeconds: to / 1000,
      requests: inWindow.length,
      successRate: inWindow.length ? round4(ok / inWindow.length) : 1,
      clientFailures: inWindow.length - ok,
      failoverMs: failover,
      backendFailuresBeforeFailover: o.faultFailures.filter(
        (f) => faulty.includes(f.member) && f.at >= from && f.at <= cutoff,
      ).length,
    };
  });

  const tpmTotal = members.reduce((a, m) => a + m.tokensPerMinute, 0);
  const rpms = members.map((m) => m.requestsPerMinute);
  return {
    deployment: scenario.request.deployment,
    durationSeconds: scenario.durationSeconds,
    gatewayUnits: scenario.gatewayUnits,
    clientRequests: clients,
    successRate: clients ? round4(successes / clients) : 1,
    statusCounts,
    latencyMs: { p50: percentile(sortedAll, 50), p95: percentile(sortedAll, 95) },
    latencyMsSuccess: { p50: percentile(sortedOk, 50), p95: percentile(sortedOk, 95) },
    throughputFraction: capacityOverRun > 0 ? round4(charged / capacityOverRun) : 0,
    callsPerRequest: clients ? round4(o.backendCalls / clients) : 0,
    callsPerBackend: Object.fromEntries(members.map((m, i) => [m.name, o.callsPerMember[i]])),
    failoverMs: faultWindows.map((w) => w.failoverMs),
    faultWindows,
    breakerTrips: Object.fromEntries(members.map((m, i) => [m.name, o.trips.filter((x) => x.member === i).length])),
    firstCallMs: Object.fromEntries(members.map((m, i) => [m.name, o.firstCall[i]])),
    firstTripMs: Object.fromEntries(members.map((m, i) => [m.name, o.trips.find((x) => x.member === i)?.at ?? null])),
    capacity: {
      tokensPerMinute: tpmTotal,
      requestsPerMinute: rpms.some((r) => r === null)
        ? null
        : Math.floor(rpms.reduce<number>((a, r) => a + (r ?? 0), 0)),
      offeredTokensPerMinute: Math.round(
        scenario.arrivals.perMinute * (scenario.request.promptTokens + scenario.request.maxTokens),
      ),
    },
    retryPolicy: o.retry,
    timeline,
    ...(scenario.trace
      ? {
          trace: {
            calls: o.calls,
            trips: o.trips.map((x) => ({
              backend: members[x.member].name,
              unit: x.unit,
              atMs: x.at,
              untilMs: x.until,
            })),
          },
        }
      : {}),
  };
}
