import { ConfigError } from "../../common/errors";
import type { GatewayModel } from "../../simulator/model";
import { simulate } from "../../simulator/simulate";
import { capacityOf } from "./checks";

/*
 * One standard question the plan asks the resilience model for every stack: what happens to clients
 * when the largest instance fails for five minutes at a moderate load?
 */

export const PROBE = {
  /** Share of the deployment's aggregate tokens per minute offered as load. */
  loadFraction: 0.6,
  outageFromSeconds: 120,
  outageToSeconds: 420,
  durationSeconds: 600,
  request: { promptTokens: 300, maxTokens: 200, completionTokens: 100 },
  /**
   * Above this rate the probe scales load and every member's capacity down by the same factor: the
   * outcome depends on their ratio, and the plan stays fast for any capacity (a 6M-TPM deployment
   * would otherwise mean simulating over a hundred thousand requests).
   */
  maxSimulatedRequestsPerMinute: 600,
};

export interface ResilienceProbe {
  deployment: string;
  failedInstance: string;
  requestsPerMinute: number;
  /** Clients served during the outage. */
  outageSuccessRate: number;
  /** Until every gateway unit had failed over; null: never. */
  failoverMs: number | null;
  /** Why there is no figure, when the model could not run (e.g. a PTU model without a documented rate). */
  skipped?: string;
  /** Load and capacities were simulated at this fraction (see PROBE.maxSimulatedRequestsPerMinute). */
  scale?: number;
}

/** The model with every member's capacity multiplied by `factor`. */
function scaled(model: GatewayModel, factor: number): GatewayModel {
  return {
    ...model,
    pools: model.pools.map((p) => ({ ...p, members: p.members.map((m) => ({ ...m, capacity: m.capacity * factor })) })),
  };
}

export function resilienceProbe(model: GatewayModel): ResilienceProbe | undefined {
  const [first] = capacityOf(model);
  if (!first || first.tokensPerMinute === undefined) {
    return undefined;
  }
  const tokensPerRequest = PROBE.request.promptTokens + PROBE.request.maxTokens;
  const requestsPerMinute = Math.max(1, Math.round((PROBE.loadFraction * first.tokensPerMinute) / tokensPerRequest));
  const scale = Math.min(1, PROBE.maxSimulatedRequestsPerMinute / requestsPerMinute);
  const base = {
    deployment: first.deployment,
    failedInstance: first.largestInstance,
    requestsPerMinute,
    ...(scale < 1 ? { scale: Math.round(scale * 1e6) / 1e6 } : {}),
  };
  try {
    const result = simulate(scale < 1 ? scaled(model, scale) : model, {
      durationSeconds: PROBE.durationSeconds,
      arrivals: { perMinute: requestsPerMinute * scale, pattern: "even" },
      request: { deployment: first.deployment, ...PROBE.request },
      faults: [
        {
          backend: first.largestInstance,
          fromSeconds: PROBE.outageFromSeconds,
          toSeconds: PROBE.outageToSeconds,
          status: 500,
        },
      ],
    });
    const [window] = result.faultWindows;
    return { ...base, outageSuccessRate: window.successRate, failoverMs: window.failoverMs };
  } catch (err) {
    if (err instanceof ConfigError) {
      return {
        ...base,
        outageSuccessRate: 0,
        failoverMs: null,
        skipped: err.problems.map((p) => p.allowed).join("; "),
      };
    }
    throw err;
  }
}

/** One line for the plan summary and for warnings that the outcome backs up. */
export function describeProbe(probe: ResilienceProbe): string {
  if (probe.skipped) {
    return `not simulated (${probe.skipped})`;
  }
  const failover =
    probe.failoverMs === null
      ? "the gateway never failed over"
      : `every gateway unit failed over within ${probe.failoverMs} ms`;
  return (
    `with ${probe.failedInstance} answering 500 for ${(PROBE.outageToSeconds - PROBE.outageFromSeconds) / 60} minutes at ` +
    `${PROBE.loadFraction * 100} % load (${probe.requestsPerMinute} requests/min of ${probe.deployment}` +
    `${probe.scale ? `, simulated at ${PROBE.maxSimulatedRequestsPerMinute}/min with capacity scaled alike` : ""}), ` +
    `${(probe.outageSuccessRate * 100).toFixed(1)} % of requests are served; ${failover}`
  );
}
