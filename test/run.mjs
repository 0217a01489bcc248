// Runs the mocha suite with TypeScript support and ends with the one line CI reads:
// "N passed, N failed". Arguments: test files or folders (default: the fast suite, test/ without
// test/slow/), --grep <pattern>, --update-snapshots (rewrite the plan snapshots in test/snapshots/).
// Tests whose title ends in "[heavy]" (large simulations, many program runs) live beside the code
// they test but run with the slow suite: the fast suite leaves them out, and naming test/slow runs
// them after the slow files. With TEST_SUMMARY_FILE set, the counts are also appended to that file,
// so .ci/run can print one closing line for the fast and the slow suite together (test/total.mjs).
import { appendFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { createRequire } from "node:module";
import Mocha from "mocha";
import { register } from "tsx/esm/api";

// TypeScript for require() (the tests are CommonJS) and for import() (ESM-only packages, some of
// which import JSON without an import attribute, which tsx's loader accepts).
const require = createRequire(import.meta.url);
require("tsx/cjs");
register();

const HEAVY = /\[heavy\]$/;

/** Test files under `target`; the slow suite is only collected when it is named. */
function collect(target, named) {
  if (statSync(target).isDirectory()) {
    if (!named && basename(target) === "slow") {
      return [];
    }
    return readdirSync(target)
      .sort()
      .flatMap((entry) => collect(join(target, entry), false));
  }
  return target.endsWith(".test.ts") ? [resolve(target)] : [];
}

const args = process.argv.slice(2);
let grep;
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--grep" || args[i] === "-g") {
    grep = args[++i];
  } else if (args[i] === "--update-snapshots") {
    // Read by the plan snapshot test: rewrite test/snapshots/ instead of comparing against it.
    process.env.UPDATE_SNAPSHOTS = "1";
  } else {
    targets.push(args[i]);
  }
}

/** One mocha run: its files, and which tests of them. */
const runs = [];
const slowSuite = targets.some((t) => resolve(t) === resolve("test/slow"));
if (targets.length === 0) {
  runs.push({ files: collect("test", false), grep: grep ?? HEAVY, invert: grep === undefined });
} else {
  runs.push({ files: targets.flatMap((t) => collect(t, true)), grep });
  if (slowSuite) {
    runs.push({ files: collect("test", false), grep: HEAVY });
  }
}

function runOnce({ files, grep: pattern, invert }) {
  return new Promise((done) => {
    const mocha = new Mocha({ timeout: 120_000, reporter: "spec", grep: pattern, invert });
    for (const file of files) mocha.addFile(file);
    const runner = mocha.run((failures) => {
      const { passes = 0, pending = 0 } = runner.stats ?? {};
      done({ passes, failures, pending });
    });
  });
}

let passes = 0;
let failures = 0;
let pending = 0;
for (const run of runs) {
  const result = await runOnce(run);
  passes += result.passes;
  failures += result.failures;
  pending += result.pending;
}
if (pending) {
  console.log(`${pending} pending`);
}
if (process.env.TEST_SUMMARY_FILE) {
  appendFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passes, failures }) + "\n");
}
console.log(`${passes} passed, ${failures} failed`);
process.exitCode = failures > 0 || passes === 0 ? 1 : 0;
