import type { z } from "zod";
import { ConfigError, toProblems } from "./errors";

/**
 * Validates a component's args with the same error style as the stack config. A component used
 * from another stack gets no help from this program's config validation, so it checks for itself.
 */
export function parseArgs<T extends z.ZodType>(component: string, name: string, schema: T, args: unknown): z.output<T> {
  const result = schema.safeParse(args, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      `${component} "${name}": invalid args`,
      toProblems(result.error.issues, (first) => (first ? `args.${first}` : "args")),
    );
  }
  return result.data;
}
