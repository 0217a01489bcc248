import { PTU_OUTPUT_TOKEN_WEIGHT } from "../common/capacity";
import type { RetryPolicy } from "../policies/apiPolicy";
import type { Limiter } from "./limiters";
import type { ModelMember } from "./model";
import type { Fault, Scenario } from "./scenario";

/*
 * What a simulation reports: the client's view (success, statuses, latency), the backends' view
 * (calls, trips), capacity used, and per-fault failover, computed from the recorded run.
 */

export interface FaultWindowResult {
  /** The instance that fails (an instance fault). */
  backend?: string;
  /** The one deployment the fault hits, or undefined for all of the backend's. */
  deployment?: string;
  /** The region that fails (a region fault), or whose zone fails (a zone fault). */
  region?: string;
  /** The zone whose gateway units fail. */
  zone?: string;
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
  /** Success rate of each stream's requests that arrived during the fault (1 when none arrived). */
  successRateByStream: Record<string, number>;
  /** Latency of each stream's successful requests that arrived during the fault (0 when none). */
  latencyMsByStream: Record<string, { p50: number; p95: number }>;
}

/** What one stream of client requests saw. */
export interface StreamResult {
  deployment: string;
  clientRequests: number;
  successRate: number;
  statusCounts: Record<string, number>;
  latencyMs: { p50: number; p95: number };
}

/** What one team's requests saw, over all its streams. */
export interface TeamResult {
  clientRequests: number;
  successRate: number;
  statusCounts: Record<string, number>;
  /** Attempts the team's own policy refused at the gateway, client retries included: by its rate (429), quota or deployments (403). */
  refusedAtGateway: { tokenRate: number; tokenQuota: number; deployment: number };
  /** Retry-After the gateway gave the refusals by rate (shortest and longest); null: none refused. */
  retryAfterMs: { min: number; max: number } | null;
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
  /** Per stream of the scenario (one per deployment unless the scenario names them otherwise). */
  streams: Record<string, StreamResult>;
  /** Per team named by the scenario's streams. */
  teams: Record<string, TeamResult>;
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
  /** Keyed `<instance>/<deployment>`: each deployment on each account is its own backend. */
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

/** A pool member with its deployment's limiter and the faults injected into it. */
export interface Member {
  /** `<instance>/<deployment>`. */
  name: string;
  source: ModelMember;
  deployment: string;
  /** Index of the pool (among the simulated ones) it belongs to. */
  pool: number;
  limiter: Limiter;
  provisioned: boolean;
  tokensPerMinute: number;
  requestsPerMinute: number | null;
  faults: { fault: Fault; index: number; from: number; to: number }[];
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** What the event loop recorded. */
export interface Outcome {
  scenario: Scenario;
  members: Member[];
  retry: RetryPolicy;
  arrivals: number[];
  /** The stream (index into scenario.streams) of each client request. */
  streamOf: number[];
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
  /** Attempts each team's policy refused at the gateway. */
  gatewayRejections: Record<string, { status: number; quota: boolean; retryAfterMs?: number }[]>;
  /** The region of each gateway unit. */
  unitRegions: string[];
  /** Backend attempts each unit placed. */
  unitCalls: number[];
}

function statusCountsOf(statuses: Iterable<number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of [...statuses].sort((a, b) => a - b)) {
    counts[String(status)] = (counts[String(status)] ?? 0) + 1;
  }
  return counts;
}

export function report(o: Outcome): SimulationResult {
  const { scenario, members, arrivals, finalStatus, finalAt, streamOf } = o;
  const p = scenario.parameters;
  const clients = arrivals.length;
  const succeeded = (c: number) => finalStatus[c] >= 200 && finalStatus[c] < 300;
  const successes = arrivals.filter((_, c) => succeeded(c)).length;

  const statusCounts = statusCountsOf(finalStatus);
  const latencies = arrivals.map((t, c) => finalAt[c] - t);
  const sortedAll = [...latencies].sort((a, b) => a - b);
  const sortedOk = latencies.filter((_, c) => succeeded(c)).sort((a, b) => a - b);

  const streams: Record<string, StreamResult> = {};
  scenario.streams.forEach((stream, i) => {
    const own = arrivals.map((_, c) => c).filter((c) => streamOf[c] === i);
    const ok = own.filter(succeeded).length;
    const sorted = own.map((c) => latencies[c]).sort((a, b) => a - b);
    streams[stream.name] = {
      deployment: stream.deployment,
      clientRequests: own.length,
      successRate: own.length ? round4(ok / own.length) : 1,
      statusCounts: statusCountsOf(own.map((c) => finalStatus[c])),
      latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95) },
    };
  });

  const teams: Record<string, TeamResult> = {};
  for (const team of [...new Set(scenario.streams.flatMap((s) => (s.team === undefined ? [] : [s.team])))]) {
    const own = arrivals.map((_, c) => c).filter((c) => scenario.streams[streamOf[c]].team === team);
    const refusals = o.gatewayRejections[team] ?? [];
    const waits = refusals.flatMap((r) => (r.status === 429 && r.retryAfterMs !== undefined ? [r.retryAfterMs] : []));
    teams[team] = {
      clientRequests: own.length,
      successRate: own.length ? round4(own.filter(succeeded).length / own.length) : 1,
      statusCounts: statusCountsOf(own.map((c) => finalStatus[c])),
      refusedAtGateway: {
        tokenRate: refusals.filter((r) => r.status === 429).length,
        tokenQuota: refusals.filter((r) => r.quota).length,
        deployment: refusals.filter((r) => r.status === 403 && !r.quota).length,
      },
      // reduce, not Math.min(...): one argument per refusal can overflow the stack.
      retryAfterMs: waits.length
        ? { min: waits.reduce((a, b) => Math.min(a, b)), max: waits.reduce((a, b) => Math.max(a, b)) }
        : null,
    };
  }

  // What the deployments could charge over the time admissions happened: whole token windows for
  // Standard quota; for a PTU bucket its depth, its drain, and the one call it lets overshoot (the
  // largest estimate any stream of its deployment sends).
  const runMs = Math.max(scenario.durationSeconds * 1000, o.lastAdmission + 1);
  const estimatePtu = (deployment: string) =>
    Math.max(
      0,
      ...scenario.streams
        .filter((s) => s.deployment.toLowerCase() === deployment.toLowerCase())
        .map((s) => s.request.promptTokens + PTU_OUTPUT_TOKEN_WEIGHT * s.request.maxTokens),
    );
  const capacityOverRun = members.reduce((sum, m) => {
    if (m.provisioned) {
      return sum + m.tokensPerMinute * (runMs / 60_000 + p.ptuBucketMinutes) + estimatePtu(m.deployment);
    }
    const windows = Math.ceil(runMs / (p.tpmWindowSeconds * 1000));
    return sum + windows * ((m.tokensPerMinute * p.tpmWindowSeconds) / 60);
  }, 0);
  const charged = o.successCharge.reduce((a, b) => a + b, 0);

  // A loop, not Math.max(...finalAt): one argument per client request overflows the stack.
  let lastAnswer = Math.max(runMs, 1);
  for (const at of finalAt) if (at > lastAnswer) lastAnswer = at;
  const seconds = Math.ceil(lastAnswer / 1000) + 1;
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
    // Units that are up and take traffic: a failed region's units and idle units cannot fail over.
    const counted = (unit: number) => o.unitCalls[unit] > 0 && o.unitRegions[unit] !== fault.region;
    for (let unit = 0; unit < o.unitCount && failover !== null; unit++) {
      if (!counted(unit)) continue;
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
    const successRateByStream = Object.fromEntries(
      scenario.streams.map((stream, i) => {
        const own = inWindow.filter((c) => streamOf[c] === i);
        return [stream.name, own.length ? round4(own.filter(succeeded).length / own.length) : 1];
      }),
    );
    const latencyMsByStream = Object.fromEntries(
      scenario.streams.map((stream, i) => {
        const ok = inWindow
          .filter((c) => streamOf[c] === i && succeeded(c))
          .map((c) => latencies[c])
          .sort((a, b) => a - b);
        return [stream.name, { p50: percentile(ok, 50), p95: percentile(ok, 95) }];
      }),
    );
    return {
      ...(fault.backend === undefined ? {} : { backend: fault.backend }),
      ...(fault.deployment === undefined ? {} : { deployment: fault.deployment }),
      ...(fault.region === undefined ? {} : { region: fault.region }),
      ...(fault.zone === undefined ? {} : { zone: fault.zone }),
      status: fault.status ?? 503,
      fromSeconds: fault.fromSeconds,
      toSeconds: to / 1000,
      requests: inWindow.length,
      successRate: inWindow.length ? round4(ok / inWindow.length) : 1,
      clientFailures: inWindow.length - ok,
      failoverMs: failover,
      backendFailuresBeforeFailover: o.faultFailures.filter(
        (f) => faulty.includes(f.member) && f.at >= from && f.at <= cutoff,
      ).length,
      successRateByStream,
      latencyMsByStream,
    };
  });

  const tpmTotal = members.reduce((a, m) => a + m.tokensPerMinute, 0);
  const rpms = members.map((m) => m.requestsPerMinute);
  return {
    streams,
    teams,
    durationSeconds: scenario.durationSeconds,
    gatewayUnits: o.unitCount,
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
        scenario.streams.reduce(
          (sum, s) => sum + s.arrivals.perMinute * (s.request.promptTokens + s.request.maxTokens),
          0,
        ),
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
