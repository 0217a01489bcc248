// Runs the mocha suite with TypeScript support and ends with the one line CI reads:
// "N passed, N failed". Arguments: test files or folders (default: test/), --grep <pattern>,
// --update-snapshots (rewrite the plan snapshots in test/snapshots/).
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import Mocha from "mocha";
import { register } from "tsx/esm/api";

// TypeScript for require() (the tests are CommonJS) and for import() (ESM-only packages, some of
// which import JSON without an import attribute, which tsx's loader accepts).
const require = createRequire(import.meta.url);
require("tsx/cjs");
register();

function collect(target) {
  if (statSync(target).isDirectory()) {
    return readdirSync(target)
      .sort()
      .flatMap((entry) => collect(join(target, entry)));
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

const mocha = new Mocha({ timeout: 120_000, reporter: "spec", grep });
for (const file of (targets.length ? targets : ["test"]).flatMap(collect)) {
  mocha.addFile(file);
}

const runner = mocha.run((failures) => {
  const { passes = 0, pending = 0 } = runner.stats ?? {};
  if (pending) {
    console.log(`${pending} pending`);
  }
  console.log(`${passes} passed, ${failures} failed`);
  process.exitCode = failures > 0 || passes === 0 ? 1 : 0;
});
