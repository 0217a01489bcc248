import * as fs from "node:fs";
import * as path from "node:path";
import { parseEngineConfig } from "../../program/stackConfig";
import { architectureMarkdown, openApiArtifact, operationsArtifacts } from "../plan/artifacts";
import { buildPlan, type PlanResult } from "../plan/plan";
import { summarize } from "../plan/summary";
import { runProgram } from "../runtime/program";
import { readStackFile, readStackFileAt } from "../runtime/stackFile";
import { reportUserErrors, runMain, usage } from "./cli";

const USAGE = `Usage: npm run plan -- [--stack <name> | --stack-file <path>] [--out <dir>] [--json]

Runs index.ts (the program \`pulumi up\` runs) under Pulumi's mock runtime with the stack's config
and shows what would be sent to Azure. No Azure account or Pulumi CLI needed.

  --stack <name>       read Pulumi.<name>.yaml (default: dev)
  --stack-file <path>  read this stack file instead (e.g. Pulumi.prod.yaml.example)
  --out <dir>          where to write plan.json, policy.xml, openapi.json, architecture.md and
                       the alert and workbook queries (alerts/, workbook/; default: plan/<stack>/)
  --json               print plan.json to stdout instead of the summary
`;

export interface PlanOptions {
  stack: string;
  stackFile?: string;
}

/** Runs the program for a stack under mocks and builds the plan. Throws `ConfigError` for bad config. */
export async function runPlan(options: PlanOptions): Promise<PlanResult> {
  const stackConfig = options.stackFile ? readStackFileAt(options.stackFile) : readStackFile(options.stack);
  const run = await runProgram({
    config: stackConfig.config,
    secretKeys: stackConfig.secretKeys,
    stack: options.stack,
  });
  // The program accepted the config, so this parse succeeds; the plan needs one value of it.
  const declared = parseEngineConfig(stackConfig.config).additionalModelAvailability;
  return buildPlan(run.resources, options.stack, undefined, declared);
}

/** Writes the artifacts (plan, policy, API, architecture, alert and workbook queries); returns the folder. */
export function writeArtifacts(result: PlanResult, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  // A rule or panel dropped since the last plan must not leave its old query behind.
  for (const folder of ["alerts", "workbook"]) fs.rmSync(path.join(dir, folder), { recursive: true, force: true });
  for (const [file, text] of Object.entries(operationsArtifacts(result.operations))) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(result.plan, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "policy.xml"), result.topology.policyXml ?? "");
  fs.writeFileSync(path.join(dir, "openapi.json"), openApiArtifact(result.topology));
  fs.writeFileSync(path.join(dir, "architecture.md"), architectureMarkdown(result.plan, result.topology));
  return dir;
}

interface CliArgs {
  stack: string;
  stackFile?: string;
  out?: string;
  json: boolean;
}

export function parseCliArgs(argv: readonly string[]): CliArgs | string {
  const args: CliArgs = { stack: "dev", json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith("--")) {
        throw new Error(`${flag} needs a value`);
      }
      return next;
    };
    try {
      if (flag === "--stack") args.stack = value();
      else if (flag === "--stack-file") args.stackFile = value();
      else if (flag === "--out") args.out = value();
      else if (flag === "--json") args.json = true;
      else if (flag === "--help" || flag === "-h") return USAGE;
      else return `Unknown argument ${flag}\n\n${USAGE}`;
    } catch (err) {
      return `${(err as Error).message}\n\n${USAGE}`;
    }
  }
  if (args.stackFile && !argv.includes("--stack")) {
    // Name the plan after the file: Pulumi.prod.yaml.example -> prod
    args.stack = /Pulumi\.([^.]+)\./.exec(path.basename(args.stackFile))?.[1] ?? "stack";
  }
  return args;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (typeof args === "string") {
    return usage(args, USAGE);
  }
  const result = await reportUserErrors(() => runPlan(args));
  if (!result) {
    return 1;
  }
  const dir = writeArtifacts(result, args.out ?? path.join("plan", args.stack));
  process.stdout.write(args.json ? JSON.stringify(result.plan, null, 2) + "\n" : summarize(result, dir));
  const statsFile = process.env.OPENAI_APIM_PLAN_STATS;
  if (statsFile) {
    // For `npm run bench`: what this process used, measured from inside it.
    const stats = { resources: result.plan.resources.length, maxRssKb: process.resourceUsage().maxRSS };
    fs.writeFileSync(statsFile, JSON.stringify(stats));
  }
  return 0;
}

if (require.main === module) {
  // The SDK captures a stack trace for every resource and every internal promise; formatting them
  // (source-mapped, as tsx turns maps on) costs more than running the program. A plan reports config
  // errors, not stack traces: OPENAI_APIM_DEBUG=1 brings them back for debugging the plan itself.
  if (!process.env.OPENAI_APIM_DEBUG) {
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = 0;
  }
  runMain(main);
}
