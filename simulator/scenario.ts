import { z } from "zod";
import { ConfigError, toProblems } from "../common/errors";
import { strictObject } from "../common/validation";
import { DEFAULT_PARAMETERS, type ModelParameters } from "./parameters";

/*
 * A scenario: the traffic and faults to run against a stack's gateway. Validated with the same
 * error style as the stack config (`scenario.request.deployment: got ...; allowed: ...`).
 */

export const FAULT_STATUSES = [429, 500, 502, 503, 504] as const;

const int = (min: number, max: number, allowed: string) =>
  z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
const nonNegative = (allowed: string) => z.number({ error: allowed }).min(0, { error: allowed });

const parametersSchema = strictObject(
  {
    gatewayOverheadMs: nonNegative("milliseconds ≥ 0").optional(),
    breakerWindow: z.enum(["sliding", "fixed"], { error: "sliding or fixed" }).optional(),
    breakerMinimumCalls: int(1, 1_000_000, "a whole number ≥ 1").optional(),
    breakerClearsOnTrip: z.boolean({ error: "true or false" }).optional(),
    retryAfterCapSeconds: nonNegative("seconds ≥ 0, or null for no cap").nullable().optional(),
    retryAfterMode: z.enum(["replace", "max"], { error: "replace or max" }).optional(),
    breakerUsesRetryAfterMs: z.boolean({ error: "true or false" }).optional(),
    retryRepicksMember: z.boolean({ error: "true or false" }).optional(),
    rpmWindowSeconds: int(1, 60, "whole seconds from 1 to 60").optional(),
    tpmWindowSeconds: int(1, 3600, "whole seconds from 1 to 3600").optional(),
    defaultRpmPerThousandTpm: nonNegative("a number ≥ 0").optional(),
    ptuBucketMinutes: nonNegative("minutes ≥ 0").optional(),
    defaultInputTpmPerPtu: nonNegative("tokens per minute ≥ 0, or null").nullable().optional(),
    firstTokenMs: nonNegative("milliseconds ≥ 0").optional(),
    perOutputTokenMs: nonNegative("milliseconds ≥ 0").optional(),
    throttleLatencyMs: nonNegative("milliseconds ≥ 0").optional(),
    faultLatencyMs: nonNegative("milliseconds ≥ 0").optional(),
    backendTimeoutMs: int(1, 3_600_000, "whole milliseconds from 1 to 3600000").optional(),
    breakerCountsTimeouts: z.boolean({ error: "true or false" }).optional(),
    clientHonorsRetryAfter: z.boolean({ error: "true or false" }).optional(),
    clientMaxRetryAfterSeconds: nonNegative("seconds ≥ 0").optional(),
    clientBackoffMs: nonNegative("milliseconds ≥ 0").optional(),
    clientMaxBackoffMs: nonNegative("milliseconds ≥ 0").optional(),
    regionFailoverSeconds: nonNegative("seconds ≥ 0").optional(),
    zoneFailoverSeconds: nonNegative("seconds ≥ 0").optional(),
    clientRetryStatuses: z
      .array(int(100, 599, "HTTP status codes"), { error: "a list of HTTP status codes" })
      .optional(),
  },
  "an object of model parameters (see simulator/parameters.ts)",
);

const faultSchema = strictObject(
  {
    backend: z
      .string({ error: "an instance's location or name" })
      .min(1, { error: "an instance's location or name" })
      .optional(),
    deployment: z
      .string({ error: "a deployment name (omit: every deployment of the backend)" })
      .min(1, { error: "a deployment name (omit: every deployment of the backend)" })
      .optional(),
    region: z
      .string({ error: "a region of the gateway or the instances" })
      .min(1, { error: "a region of the gateway or the instances" })
      .optional(),
    zone: z.enum(["1", "2", "3"], { error: 'an availability zone: "1", "2" or "3"' }).optional(),
    fromSeconds: nonNegative("seconds from the start, ≥ 0"),
    toSeconds: nonNegative("seconds from the start, after fromSeconds (omit: until the end)").optional(),
    status: z
      .union([z.literal(FAULT_STATUSES), z.literal("timeout")], {
        error: `one of ${FAULT_STATUSES.join(", ")} or "timeout"`,
      })
      .optional(),
    retryAfterSeconds: nonNegative("seconds ≥ 0").optional(),
  },
  "an object { backend, deployment?, status, ... } (an instance), { region, status? } (a whole region) or { zone, region? } (a zone's gateway units)",
).superRefine((f, ctx) => {
  if (f.toSeconds !== undefined && f.toSeconds <= f.fromSeconds) {
    ctx.addIssue({
      code: "custom",
      path: ["toSeconds"],
      input: f.toSeconds,
      message: `seconds after fromSeconds (${f.fromSeconds})`,
    });
  }
  const kinds = [f.backend !== undefined, f.region !== undefined && f.zone === undefined, f.zone !== undefined];
  if (kinds.filter(Boolean).length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: [],
      input: f,
      message:
        "exactly one of: backend (an instance fails), region (a whole region fails), zone (a zone's gateway units fail)",
    });
  } else if (f.backend !== undefined && f.status === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["status"],
      input: undefined,
      message: `one of ${FAULT_STATUSES.join(", ")} or "timeout"`,
    });
  } else if (f.backend === undefined && f.deployment !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["deployment"],
      input: f.deployment,
      message: "nothing: only an instance's fault names a deployment",
    });
  }
});

const arrivalsSchema = strictObject(
  {
    perMinute: z
      .number({ error: "requests per minute > 0" })
      .positive({ error: "requests per minute > 0" })
      .max(1_000_000, { error: "at most 1000000 requests per minute" }),
    pattern: z.enum(["even", "burst", "poisson"], { error: "even, burst or poisson" }).default("even"),
    burstSeconds: z
      .number({ error: "seconds > 0 within each minute" })
      .positive({ error: "seconds > 0 within each minute" })
      .max(60, { error: "at most 60 seconds" })
      .default(2),
  },
  "an object { perMinute, pattern?, burstSeconds? }",
);

const tokens = {
  promptTokens: int(0, 10_000_000, "a whole number of tokens ≥ 0"),
  maxTokens: int(1, 10_000_000, "a whole number of tokens ≥ 1"),
  completionTokens: int(0, 10_000_000, "a whole number of tokens ≥ 0, at most maxTokens"),
};

function checkCompletion(r: { maxTokens: number; completionTokens: number }, ctx: z.RefinementCtx): void {
  if (r.completionTokens > r.maxTokens) {
    ctx.addIssue({
      code: "custom",
      path: ["completionTokens"],
      input: r.completionTokens,
      message: `a whole number of tokens at most maxTokens (${r.maxTokens})`,
    });
  }
}

const requestShape = strictObject(tokens, "an object { promptTokens, maxTokens, completionTokens }").superRefine(
  checkCompletion,
);
const deploymentName = z
  .string({ error: "the name of a deployment in the stack config" })
  .min(1, { error: "the name of a deployment in the stack config" });

/** One stream of client requests: what they ask for and how they arrive. */
const streamSchema = strictObject(
  {
    name: z.string({ error: "a name for this stream in the results" }).min(1).optional(),
    region: z
      .string({ error: "a region the gateway runs in: where these clients enter (default the primary)" })
      .min(1, { error: "a region the gateway runs in: where these clients enter (default the primary)" })
      .optional(),
    team: z
      .string({ error: "the name of a team of the stack (its limits apply)" })
      .min(1, { error: "the name of a team of the stack (its limits apply)" })
      .optional(),
    deployment: deploymentName,
    arrivals: arrivalsSchema,
    request: requestShape,
  },
  "an object { name?, region?, team?, deployment, arrivals, request }",
);

export const scenarioSchema = strictObject(
  {
    description: z.string({ error: "text" }).optional(),
    stackFile: z
      .string({ error: "a stack file path relative to the project, e.g. Pulumi.prod.yaml.example" })
      .optional(),
    durationSeconds: int(1, 7 * 86_400, "whole seconds from 1 to 604800"),
    // Overrides the primary region's units from the stack (what if the gateway had n units?).
    gatewayUnits: int(1, 100, "a whole number of APIM units from 1 to 100").optional(),
    seed: int(0, 2 ** 31 - 1, "a whole number from 0 to 2147483647").default(1),
    // One stream, in short: `arrivals` with `request` naming its deployment.
    arrivals: arrivalsSchema.optional(),
    request: strictObject(
      { deployment: deploymentName, ...tokens },
      "an object { deployment, promptTokens, maxTokens, completionTokens }",
    )
      .superRefine(checkCompletion)
      .optional(),
    // Several streams, e.g. one per deployment.
    traffic: z
      .array(streamSchema, { error: "a list of streams { name?, deployment, arrivals, request }" })
      .min(1, { error: "a list of at least one stream" })
      .optional(),
    faults: z.array(faultSchema, { error: "a list of faults" }).default([]),
    clientRetries: int(0, 20, "a whole number of client retries from 0 to 20").default(0),
    trace: z.boolean({ error: "true or false" }).default(false),
    parameters: parametersSchema.default({}),
  },
  "a scenario { durationSeconds, traffic (or arrivals and request), faults?, gatewayUnits?, seed?, clientRetries?, trace?, parameters? }",
).superRefine((s, ctx) => {
  const short = s.arrivals !== undefined || s.request !== undefined;
  if (s.traffic && short) {
    ctx.addIssue({
      code: "custom",
      path: ["traffic"],
      input: "traffic and arrivals/request",
      message: "either traffic (a list of streams) or arrivals with request (one stream), not both",
    });
  } else if (!s.traffic && (s.arrivals === undefined || s.request === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [s.arrivals === undefined ? "arrivals" : "request"],
      input: undefined,
      message: "traffic (a list of streams), or arrivals with request (one stream)",
    });
  }
  const names = new Set<string>();
  (s.traffic ?? []).forEach((stream, i) => {
    const name = stream.name ?? stream.deployment;
    if (names.has(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["traffic", i, "name"],
        input: name,
        message: "a stream name not used by another stream (give streams of one deployment distinct names)",
      });
    }
    names.add(name);
  });
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
type Parsed = z.output<typeof scenarioSchema>;

/** One stream of client requests, with every default applied. */
export interface Stream {
  name: string;
  /** The gateway region the stream's clients enter; undefined: the primary. */
  region?: string;
  /** The team whose budget and deployments apply; undefined: none. */
  team?: string;
  deployment: string;
  arrivals: NonNullable<Parsed["arrivals"]>;
  request: { promptTokens: number; maxTokens: number; completionTokens: number };
}

export type Scenario = Omit<Parsed, "parameters" | "arrivals" | "request" | "traffic"> & {
  streams: Stream[];
  parameters: ModelParameters;
  /** The parameters the scenario itself set (the others are the model's defaults). */
  parametersSet: (keyof ModelParameters)[];
};
export type Fault = Scenario["faults"][number];

/** Validates a scenario (already parsed from YAML or JSON) and fills in the model's default parameters. */
export function parseScenario(input: unknown): Scenario {
  if (isParsed(input)) return input;
  const result = scenarioSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      "Invalid scenario",
      toProblems(result.error.issues, (first) => (first ? `scenario.${first}` : "scenario")),
    );
  }
  const { arrivals, request, traffic, parameters, ...rest } = result.data;
  const streams: Stream[] = traffic
    ? traffic.map((s) => ({
        name: s.name ?? s.deployment,
        ...(s.team === undefined ? {} : { team: s.team }),
        ...(s.region === undefined ? {} : { region: s.region }),
        deployment: s.deployment,
        arrivals: s.arrivals,
        request: s.request,
      }))
    : [
        {
          name: request!.deployment,
          deployment: request!.deployment,
          arrivals: arrivals!,
          request: {
            promptTokens: request!.promptTokens,
            maxTokens: request!.maxTokens,
            completionTokens: request!.completionTokens,
          },
        },
      ];
  const overrides = Object.fromEntries(Object.entries(parameters).filter(([, v]) => v !== undefined));
  return {
    ...rest,
    streams,
    parameters: { ...DEFAULT_PARAMETERS, ...overrides } as ModelParameters,
    parametersSet: Object.keys(overrides) as (keyof ModelParameters)[],
  };
}

/** A scenario parseScenario already returned (it has streams), passed again. */
function isParsed(input: unknown): input is Scenario {
  return typeof input === "object" && input !== null && Array.isArray((input as Scenario).streams);
}
