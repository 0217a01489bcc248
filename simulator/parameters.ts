/*
 * Every behaviour the resilience model needs that the stack config does not fix. Where Microsoft's
 * documentation pins a behaviour the default follows it ("documented"); where it leaves it open the
 * default is an assumption, named here and overridable from a scenario's `parameters:` block, never a
 * hidden constant. Sources are in ../shared/design/resilience-model.md (S1-S23) at the time of writing
 * and summarised in the README.
 */

/** How the circuit breaker counts failures inside its interval. */
export type BreakerWindow = "sliding" | "fixed";
/** What an accepted Retry-After does to the trip duration. */
export type RetryAfterMode = "replace" | "max";

export interface ModelParameters {
  /** Time APIM adds to every attempt (policy execution, routing). Assumption: no official figure. */
  gatewayOverheadMs: number;
  /** Breaker failures counted in a sliding window, or in fixed windows starting at 0. Assumption. */
  breakerWindow: BreakerWindow;
  /** Calls needed in the interval before a percentage rule may trip. Assumption: undocumented. */
  breakerMinimumCalls: number;
  /** A tripped breaker forgets the failures that tripped it. Assumption. */
  breakerClearsOnTrip: boolean;
  /** Longest Retry-After the breaker honours, in seconds; null: no cap. Assumption: none documented. */
  retryAfterCapSeconds: number | null;
  /** An accepted Retry-After replaces the trip duration, or extends it to the longer of the two. Assumption. */
  retryAfterMode: RetryAfterMode;
  /** The breaker reads `retry-after-ms` (exact) instead of `Retry-After` (whole seconds). Assumption. */
  breakerUsesRetryAfterMs: boolean;
  /** Each gateway retry lets the pool pick again (skipping tripped members). Inferred from the AI-Gateway samples. */
  retryRepicksMember: boolean;
  /** Requests-per-minute window of Standard deployments, seconds ("typically 1 or 10"). Assumption: 10. */
  rpmWindowSeconds: number;
  /** Tokens-per-minute window of Standard deployments, seconds. Documented: a running count per minute. */
  tpmWindowSeconds: number;
  /** RPM per 1,000 TPM for models without a documented ratio. Documented general rule: 6. */
  defaultRpmPerThousandTpm: number;
  /** Provisioned bucket depth in minutes of capacity. Assumption: 1. */
  ptuBucketMinutes: number;
  /** Input TPM per PTU for models without a documented figure; null refuses to guess. */
  defaultInputTpmPerPtu: number | null;
  /** Time to first token of a successful call. Assumption (gpt-4o class). */
  firstTokenMs: number;
  /** Time per generated token. Assumption (gpt-4o class, 25 tokens/s). */
  perOutputTokenMs: number;
  /** Time until Azure OpenAI answers a throttled call with 429. Assumption. */
  throttleLatencyMs: number;
  /** Time until a faulty backend answers with its error status. Assumption. */
  faultLatencyMs: number;
  /**
   * forward-request timeout for a backend that never answers, when the gateway model does not state
   * the policy's (a model built from a stack does). Documented default of forward-request: 300 s.
   */
  backendTimeoutMs: number;
  /** Timeouts count as breaker failures. Assumption: they surface as errors, not status codes. */
  breakerCountsTimeouts: boolean;
  /** Client retries wait for Retry-After when the response has one. The openai SDKs do. */
  clientHonorsRetryAfter: boolean;
  /** Longer Retry-After values are ignored by the client, which backs off instead. openai SDKs: 60 s. */
  clientMaxRetryAfterSeconds: number;
  /** First client back-off; doubles per retry up to clientMaxBackoffMs. openai SDKs: 0.5 s to 8 s. */
  clientBackoffMs: number;
  clientMaxBackoffMs: number;
  /** Statuses a client retries. openai SDKs: 408, 409, 429 and 5xx. */
  clientRetryStatuses: number[];
  /**
   * Until the global endpoint stops sending a failed region's clients there. Azure routes it with
   * Traffic Manager (api-management-howto-deploy-multi-region.md); detection plus DNS caching is not
   * documented for APIM. Assumption: 2 minutes.
   */
  regionFailoverSeconds: number;
  /** Until a region's load balancer stops sending requests to units in a failed zone. Assumption: 10 s. */
  zoneFailoverSeconds: number;
}

export const DEFAULT_PARAMETERS: ModelParameters = {
  gatewayOverheadMs: 10,
  breakerWindow: "sliding",
  breakerMinimumCalls: 10,
  breakerClearsOnTrip: true,
  retryAfterCapSeconds: null,
  retryAfterMode: "replace",
  breakerUsesRetryAfterMs: false,
  retryRepicksMember: true,
  rpmWindowSeconds: 10,
  tpmWindowSeconds: 60,
  defaultRpmPerThousandTpm: 6,
  ptuBucketMinutes: 1,
  defaultInputTpmPerPtu: null,
  firstTokenMs: 600,
  perOutputTokenMs: 40,
  throttleLatencyMs: 20,
  faultLatencyMs: 50,
  backendTimeoutMs: 300_000,
  breakerCountsTimeouts: false,
  clientHonorsRetryAfter: true,
  clientMaxRetryAfterSeconds: 60,
  clientBackoffMs: 500,
  clientMaxBackoffMs: 8_000,
  clientRetryStatuses: [408, 409, 429, 500, 502, 503, 504],
  regionFailoverSeconds: 120,
  zoneFailoverSeconds: 10,
};
