import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../projectRoot";

/** A stack file that is missing or unreadable: a user mistake, reported without a stack trace. */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

/** A stack's config as the Pulumi engine hands it to the program: `namespace:key` -> string. */
export interface StackFileConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/**
 * Converts the `config:` map of a `Pulumi.<stack>.yaml` into what the engine passes a program:
 * strings stay strings, structured values become JSON text, `secure:` values (which only the
 * Pulumi CLI can decrypt) become a placeholder marked secret.
 */
export function toEngineConfig(config: Record<string, unknown>, project = "openai-apim"): StackFileConfig {
  const out: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(config)) {
    // A key without a namespace belongs to the project, as in the Pulumi CLI.
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      out[key] = "placeholder-secret";
      secretKeys.push(key);
    } else {
      out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { config: out, secretKeys };
}

/** Reads `Pulumi.<stack>.yaml` from a project folder. */
export function readStackFile(stack: string, projectDir = PROJECT_ROOT): StackFileConfig {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new StackFileError(
      `No stack file ${file}: create it with \`pulumi stack init ${stack}\` or copy Pulumi.dev.yaml`,
    );
  }
  return readStackFileAt(file);
}

/** Reads a stack file at any path (e.g. `Pulumi.prod.yaml.example`). */
export function readStackFileAt(file: string): StackFileConfig {
  let doc: { config?: Record<string, unknown> };
  try {
    // merge: YAML 1.1 merge keys (`<<: *base`), which the Pulumi CLI's YAML reader accepts.
    doc = (parse(fs.readFileSync(file, "utf8"), { merge: true }) ?? {}) as { config?: Record<string, unknown> };
  } catch (err) {
    throw new StackFileError(`Cannot read stack file ${file}: ${(err as Error).message}`);
  }
  return toEngineConfig(doc.config ?? {});
}

/** Stack names that have a `Pulumi.<stack>.yaml` in the project folder. */
export function listStacks(projectDir = PROJECT_ROOT): string[] {
  return fs
    .readdirSync(projectDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}
