import { compileExpressions, toolchain } from "../expressions/compile";
import { policyExpressions } from "../expressions/extract";
import { policyVariants } from "../expressions/variants";
import { runMain } from "./cli";

/*
 * npm run check:expressions: compiles every C# expression the policy renderer can write, as APIM does
 * when a policy is saved. Needs Mono's compiler (see compile.ts); exits 0 with a note when it is
 * missing, so machines without it are not blocked, and 1 on any compile error.
 */

async function main(): Promise<number> {
  const tools = toolchain();
  if (typeof tools === "string") {
    process.stdout.write(`Policy expressions not compiled: ${tools}\n`);
    return 0;
  }
  let failures = 0;
  for (const variant of policyVariants()) {
    const expressions = policyExpressions(variant.xml);
    const errors = compileExpressions(expressions, tools);
    process.stdout.write(`${errors.length ? "FAIL" : "ok  "} ${variant.name}: ${expressions.length} expressions\n`);
    for (const error of errors) {
      process.stdout.write(`     ${error.where}: ${error.message}\n       ${error.code.split("\n")[0]}\n`);
    }
    failures += errors.length;
  }
  return failures ? 1 : 0;
}

runMain(main);
