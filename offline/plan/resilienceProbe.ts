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
}

export function resilienceProbe(model: GatewayModel): ResilienceProbe | undefined {
  const [first] = capacityOf(model);
  if (!first || first.tokensPerMinute === undefined) {
    return undefined;
  }
  const tokensPerRequest = PROBE.request.promptTokens + PROBE.request.maxTokens;
  const requestsPerMinute = Math.max(1, Math.round((PROBE.loadFraction * first.tokensPerMinute) / tokensPerRequest));
  const base = { deployment: first.deployment, failedInstance: first.largestInstance, requestsPerMinute };
  try {
    const result = simulate(model, {
      durationSeconds: PROBE.durationSeconds,
      arrivals: { perMinute: requestsPerMinute, pattern: "even" },
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
    `${PROBE.loadFraction * 100} % load (${probe.requestsPerMinute} requests/min of ${probe.deployment}), ` +
    `${(probe.outageSuccessRate * 100).toFixed(1)} % of requests are served; ${failover}`
  );
}
