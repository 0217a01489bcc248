import { ConfigError } from "../../common/errors";
import { StackFileError } from "../runtime/stackFile";

/*
 * What the offline commands (plan, simulate) share: usage text, user mistakes reported as a message
 * and exit code 1, crashes with their stack trace.
 */

/** Prints `text` (the usage, or an argument error followed by it); exit code 0 for --help, else 2. */
export function usage(text: string, usageText: string): number {
  const help = text === usageText;
  (help ? process.stdout : process.stderr).write(text);
  return help ? 0 : 2;
}

/** Runs `work`; a bad config or a missing file becomes its message on stderr and `undefined`. */
export async function reportUserErrors<T>(work: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StackFileError) {
      process.stderr.write(`${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

/** Runs a command's main with the process arguments and sets the exit code from it. */
export function runMain(main: (argv: readonly string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      if (!process.env.OPENAI_APIM_DEBUG) {
        process.stderr.write("(run with OPENAI_APIM_DEBUG=1 for a full stack trace)\n");
      }
      process.exitCode = 1;
    },
  );
}
