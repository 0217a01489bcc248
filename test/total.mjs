// Prints one closing line for every suite .ci/run ran: "N passed, N failed" over the counts that
// test/run.mjs appended to the file named on the command line.
import { readFileSync } from "node:fs";

const runs = readFileSync(process.argv[2], "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line));
const passes = runs.reduce((sum, r) => sum + r.passes, 0);
const failures = runs.reduce((sum, r) => sum + r.failures, 0);
console.log(`${passes} passed, ${failures} failed`);
process.exitCode = failures > 0 || passes === 0 ? 1 : 0;
