import * as path from "node:path";

/** The repository root: where Pulumi.yaml, the stack files and scenarios/ live. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
