import type { DeploymentSku } from "../common/azureOpenAi";
import type { RetryPolicy } from "../policies/apiPolicy";

/*
 * What the simulator needs to know about a gateway: its pools and their members, the breaker rule
 * and the retry. The offline plan builds this from the resources the program registers
 * (offline/plan/gatewayModel.ts), so the model simulates what `pulumi up` would deploy; a library
 * user can build one by hand.
 */

/** One pool member: one model deployment on one Azure OpenAI account. */
export interface ModelMember {
  /** Name shown in results (the instance name); faults may name it. */
  name: string;
  /** Region of the account; faults may name it too. */
  location: string;
  /** Pool priority: lower is preferred. */
  priority: number;
  /** Share within the priority group. */
  weight: number;
  /** Model name (decides tokens/requests ratios and PTU throughput). */
  model: string;
  sku: DeploymentSku;
  /** Thousands of tokens per minute, or PTUs for provisioned SKUs. */
  capacity: number;
}

/** The pool that serves one deployment name. */
export interface ModelPool {
  deployment: string;
  members: ModelMember[];
}

/** The backend's one circuit-breaker rule, in milliseconds. */
export interface BreakerRule {
  failureCount?: number;
  failurePercentage?: number;
  intervalMs: number;
  tripDurationMs: number;
  statusRanges: { min: number; max: number }[];
  acceptRetryAfter: boolean;
}

/** A team sharing the gateway: the deployments it may call and its token budget. */
export interface ModelTeam {
  name: string;
  /** Deployments it may call; undefined: every deployment. */
  deployments?: string[];
  tokensPerMinute?: number;
  tokenQuota?: { tokens: number; period: string };
}

/** A region the gateway runs units in. */
export interface ModelGatewayRegion {
  /** Azure region name; a stream's `region` and a region fault name it. */
  name: string;
  units: number;
  /** Zones its units spread over, round-robin; a zone fault names one. */
  zones?: string[];
  /** Per deployment, this region's member priorities by member name where they differ from the pool's. */
  priorities?: Record<string, Record<string, number>>;
}

export interface GatewayModel {
  pools: ModelPool[];
  /** Undefined: backends without a breaker. */
  breaker?: BreakerRule;
  /** The retry around forward-request, as the API policy renders it. */
  retry: RetryPolicy;
  /** Retry-After (seconds) the gateway gives a 429/503 that has none, such as the pool's own 503. */
  poolRetryAfterSeconds: number;
  /** forward-request's timeout in the policy; undefined: the backendTimeoutMs parameter. */
  backendTimeoutSeconds?: number;
  /** Teams whose policies the gateway enforces before a backend is called. */
  teams?: ModelTeam[];
  /** Regions with gateway units, primary first; undefined: one region with the scenario's gatewayUnits. */
  regions?: ModelGatewayRegion[];
}
