import * as pulumi from "@pulumi/pulumi";
import { mockCall, mockNewResource } from "./placeholders";
import { secretPaths, unwrapSecrets } from "./wireFormat";

/*
 * Runs Pulumi code in-process under the SDK's mock runtime and records every registration exactly as
 * the engine would receive it: each record is built from the registration request (type, name,
 * parent, inputs, dependencies, options) and completed from the response (URN, id, state). Used by
 * the tests and by the offline plan.
 */

/** One resource registration, as the engine would receive it. */
export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent (a component), or "" for a top-level resource. */
  parent: string;
  custom: boolean;
  inputs: Record<string, unknown>;
  /** URNs of every resource this one depends on (parent excluded; `dependsOn` and input dependencies). */
  dependencies: string[];
  /** URNs of resources named in `dependsOn` or in input values, per input property. */
  propertyDependencies: Record<string, string[]>;
  /** What the mock answered for outputs (placeholders for Azure-computed values). */
  state: Record<string, unknown>;
  id?: string;
  customTimeouts?: { create?: string; update?: string; delete?: string };
  additionalSecretOutputs: string[];
  /** Paths (e.g. `credentials.connectionString`) of inputs sent to the engine as secrets. */
  secretInputs: string[];
}

/** Registrations of one resource type, in registration order. */
export function ofType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** The program's exports with every output resolved (secrets unwrapped, see `secretOutputs`). */
  outputs: Record<string, unknown>;
  /** Names of exports that hold a secret output. */
  secretOutputs: string[];
  /** Invokes the program made, by token. */
  invokes: string[];
}

export interface MockedRunOptions {
  /** Config as `pulumi config` stores it: `namespace:key` -> string (structured values as JSON text). */
  config: Record<string, string>;
  secretKeys?: string[];
  project?: string;
  stack?: string;
  /** Called for every registration as it is requested, so a caller sees them even if the program throws. */
  onRegister?: (resource: RecordedResource) => void;
}

/** The parts of the register request and response the recorder reads (the SDK's generated gRPC types). */
interface RegisterRequest {
  getObject(): { toJavaScript(): unknown };
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getAdditionalsecretoutputsList(): string[];
}
interface RegisterResponse {
  getUrn(): string;
  getId(): string;
  getObject(): { toJavaScript(): unknown } | undefined;
}
type Monitor = { registerResource(req: RegisterRequest, callback: (err: unknown, res: unknown) => void): unknown };

const STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * azure-native gives every resource an alias per earlier API version of its type (25 for a Backend),
 * which the SDK turns into URN outputs one by one: five sixths of a mocked run's time. They only
 * matter to an engine matching old state; nothing here has state, and no record includes them.
 */
function withoutTypeAliases(args: pulumi.ResourceTransformationArgs): pulumi.ResourceTransformationResult {
  return { props: args.props, opts: { ...args.opts, aliases: [] } };
}

/**
 * A URN as the engine writes it: the mock monitor puts the root stack's type in front of every
 * resource's type chain, the engine leaves it out.
 */
function engineUrn(urn: string): string {
  return urn.replace(`::${STACK_TYPE}$`, "::");
}

/** A parent as the engine records it: none for a resource directly under the stack. */
const engineParent = (urn: string) => (urn.includes(`::${STACK_TYPE}::`) ? "" : engineUrn(urn));

/** The record a registration request describes; URN, id and state follow from the response. */
function fromRequest(req: RegisterRequest): RecordedResource {
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((value, key) => {
    propertyDependencies[key] = value.getUrnsList().map(engineUrn);
  });
  const timeouts = req.getCustomtimeouts();
  const sent = req.getObject().toJavaScript();
  return {
    type: req.getType(),
    name: req.getName(),
    urn: "",
    parent: engineParent(req.getParent()),
    custom: req.getCustom(),
    inputs: unwrapSecrets(sent) as Record<string, unknown>,
    dependencies: req.getDependenciesList().map(engineUrn),
    propertyDependencies,
    state: {},
    customTimeouts:
      timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
        ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() }
        : undefined,
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    secretInputs: secretPaths(sent),
  };
}

function completeFromResponse(record: RecordedResource, res: RegisterResponse | undefined): void {
  if (!res) {
    return;
  }
  record.urn = engineUrn(res.getUrn());
  record.id = res.getId() || undefined;
  record.state = (unwrapSecrets(res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>) ?? {};
}

/** An exported value with every Output in it resolved, through the SDK's public `isSecret` and `apply`. */
async function settle(value: unknown, secret: { found: boolean }): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const output = value as pulumi.Output<unknown>;
    if (await pulumi.isSecret(output)) {
      secret.found = true;
    }
    const inner = await new Promise<unknown>((resolve) => {
      output.apply((v) => {
        resolve(v);
        return v;
      });
    });
    return settle(inner, secret);
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((v) => settle(v, secret)));
  }
  if (value !== null && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await settle(v, secret)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Runs `program` (which registers resources and returns its exports) under mocks with the given
 * config, and records every registration. Throws what the program throws (a `ConfigError` for bad
 * input) once the registrations it did make have settled.
 */
export async function runMocked(
  options: MockedRunOptions,
  program: () => Record<string, unknown>,
): Promise<ProgramRun> {
  // The SDK captures a stack trace for every resource and internal promise; formatting them costs
  // more than the run itself once source maps are on (tsx turns them on). Nothing reads them here:
  // OPENAI_APIM_DEBUG=1 keeps them, for debugging a component under mocks.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!process.env.OPENAI_APIM_DEBUG) Error.stackTraceLimit = 0;
  try {
    return await record(options, program);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

async function record(options: MockedRunOptions, program: () => Record<string, unknown>): Promise<ProgramRun> {
  const recorded: RecordedResource[] = [];
  const invokes: string[] = [];

  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      newResource: mockNewResource,
      call: (args) => {
        invokes.push(args.token);
        return mockCall(args);
      },
    },
    options.project ?? "openai-apim",
    options.stack ?? "dev",
    false,
  );

  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    // The stack's own registration, as the engine gets it from every program; not a resource of ours.
    if (req.getType() === STACK_TYPE) return register(req, callback);
    const record = fromRequest(req);
    recorded.push(record);
    options.onRegister?.(record);
    return register(req, (err, res) => {
      completeFromResponse(record, res as RegisterResponse | undefined);
      callback(err, res);
    });
  };

  let exported: Record<string, unknown> = {};
  let failure: { error: unknown } | undefined;
  try {
    // Inside the stack resource, as `pulumi up` runs a program, so that a stack transformation applies.
    // The program's error is kept, not thrown in there: the stack would leave it unhandled.
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation(withoutTypeAliases);
      try {
        exported = program();
      } catch (error) {
        failure = { error };
      }
      return {};
    });
  } finally {
    // Public "wait until every RPC has finished", as the language host does after a program.
    await pulumi.runtime.disconnect();
  }
  if (failure) throw failure.error;
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(exported)) {
    const secret = { found: false };
    outputs[key] = await settle(value, secret);
    if (secret.found) {
      secretOutputs.push(key);
    }
  }
  return { resources: recorded, outputs, secretOutputs, invokes };
}
