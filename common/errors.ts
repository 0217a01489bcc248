import type { z } from "zod";

/** One thing wrong with the input: which key, what was given, what would have been accepted. */
export interface ConfigProblem {
  /** Full key, e.g. `openai-apim:instances[1].priority`. */
  key: string;
  /** The offending value, rendered for humans (`"swedencentrl"`, `150`, `nothing`). */
  given: string;
  /** What the key accepts. */
  allowed: string;
}

/**
 * Bad stack config, component args or scenario. Pulumi prints a `RunError` without a stack trace (the
 * user made a typo; the program did not crash). `RunError.isInstance` recognises the marker property
 * below, so this layer needs no Pulumi import and the simulator and policy pack can use it too;
 * test/errors.test.ts fails if Pulumi ever stops recognising it.
 */
export class ConfigError extends Error {
  readonly __pulumiRunError = true;

  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` +
        problems.map((p) => `  - ${p.key}: got ${p.given}; allowed: ${p.allowed}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Renders a value for an error message: short, quoted strings, and "nothing" for a missing key. */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return "nothing";
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Cycles and BigInts: an error message must never throw.
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** `["instances", 1, "priority"]` -> `instances[1].priority`, after the caller's prefix for the first segment. */
export function formatKey(path: readonly PropertyKey[], root: (first: string) => string): string {
  if (path.length === 0) {
    return root("");
  }
  const [first, ...rest] = path;
  return (
    root(String(first)) +
    rest.map((segment) => (typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`)).join("")
  );
}

/** Turns zod's issues into problems, in input order. */
export function toProblems(issues: readonly z.core.$ZodIssue[], root: (first: string) => string): ConfigProblem[] {
  return issues.map((issue) => {
    if (issue.code === "invalid_key") {
      // A map key that its key schema refused: the nested issue says why (zod's own text is generic).
      const key = issue.path[issue.path.length - 1];
      return {
        key: formatKey(issue.path, root),
        given: `the key ${describeValue(String(key))}`,
        allowed: issue.issues[0]?.message ?? issue.message,
      };
    }
    if (issue.code === "unrecognized_keys") {
      return {
        key: formatKey(issue.path, root),
        given: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
        allowed: issue.message,
      };
    }
    return {
      key: formatKey(issue.path, root),
      given: describeValue((issue as { input?: unknown }).input),
      allowed: issue.message,
    };
  });
}

/** `args.backends[0]`-style keys for a component's args. */
export const argsKey = (first: string) => (first ? `args.${first}` : "args");
