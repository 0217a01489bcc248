import * as path from "node:path";
import { runMocked, type MockedRunOptions, type ProgramRun } from "./recorder";

export interface RunProgramOptions extends MockedRunOptions {
  /** Absolute path of the program entry; default: the repository's index.ts. */
  entry?: string;
}

/** The repository's Pulumi program. */
export const PROGRAM_ENTRY = path.resolve(__dirname, "..", "..", "index.ts");

/**
 * Runs a Pulumi program file (by default this repository's index.ts, the code `pulumi up` runs)
 * once under mocks and records what it registers.
 */
export async function runProgram(options: RunProgramOptions): Promise<ProgramRun> {
  const entry = require.resolve(options.entry ?? PROGRAM_ENTRY);
  return runMocked(options, () => {
    // A fresh evaluation per run: the program reads its config at load time.
    delete require.cache[entry];
    return require(entry) as Record<string, unknown>;
  });
}
