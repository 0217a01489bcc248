import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { parse } from "yaml";

/*
 * The GitHub workflows, checked twice: against GitHub's own workflow schema (@actions/workflow-parser,
 * the parser behind the Actions language service), and for the jobs, steps and permissions this
 * project relies on.
 */

const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8");

interface Step {
  uses?: string;
  run?: string;
  name?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  environment?: string;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  strategy?: { matrix: Record<string, unknown>; "max-parallel"?: number };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

async function schemaErrors(file: string): Promise<string[]> {
  // ESM-only package, loaded from this CommonJS test with a dynamic import.
  const parser = await import("@actions/workflow-parser");
  const result = parser.parseWorkflow({ name: file, content: read(file) }, new parser.NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => e.message);
}

const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const step = (job: Job, uses: string) => job.steps.find((s) => s.uses?.startsWith(uses));

function expectKnownScripts(job: Job): void {
  for (const [, script] of runs(job).matchAll(/npm run (?:--silent )?([\w:-]+)/g)) {
    expect(scripts, `npm run ${script}`).to.have.property(script);
  }
}

function expectOidc(job: Job): void {
  expect(job.permissions).to.include({ "id-token": "write" });
  expect(job.env).to.include({
    ARM_USE_OIDC: "true",
    ARM_CLIENT_ID: "${{ vars.AZURE_CLIENT_ID }}",
    ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
    ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
  });
  expect(JSON.stringify(job)).to.not.match(/ARM_CLIENT_SECRET/);
}

describe("GitHub workflows", () => {
  for (const file of ["pr.yml", "deploy.yml"]) {
    it(`${file} is valid against GitHub's workflow schema`, async () => {
      expect(await schemaErrors(file)).to.deep.equal([]);
    });
  }

  it("the schema check catches a broken workflow (so the checks above can fail)", async () => {
    const parser = await import("@actions/workflow-parser");
    const broken = read("pr.yml").replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest");
    const result = parser.parseWorkflow({ name: "broken.yml", content: broken }, new parser.NoOperationTraceWriter());
    expect(
      result.context.errors
        .getErrors()
        .map((e) => e.message)
        .join("\n"),
    ).to.contain("runs_on");
  });

  describe("pr.yml", () => {
    const workflow = parse(read("pr.yml")) as Workflow;
    const checks = workflow.jobs.checks;
    const preview = workflow.jobs.preview;

    it("runs on pull requests with read-only defaults", () => {
      expect(workflow.on).to.have.property("pull_request");
      expect(workflow.permissions).to.deep.equal({ contents: "read" });
    });

    it("installs, lints, type-checks, tests and plans offline, in that order", () => {
      const commands = checks.steps.map((s) => s.run ?? s.uses ?? "");
      const order = ["npm ci", "npm run lint", "npm run typecheck", "npm test", "npm run --silent plan"].map((c) =>
        commands.findIndex((cmd) => cmd.includes(c)),
      );
      expect(
        order.every((i) => i >= 0),
        commands.join("\n"),
      ).to.equal(true);
      expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
      expectKnownScripts(checks);
    });

    it("publishes the plan as a job summary and an artifact", () => {
      expect(runs(checks)).to.contain('>> "$GITHUB_STEP_SUMMARY"');
      expect(step(checks, "actions/upload-artifact")?.with).to.include({ path: "plan/" });
    });

    it("previews each stack with OIDC, a configurable backend, the policy pack and a PR comment", () => {
      expect(preview.needs).to.equal("checks");
      expectOidc(preview);
      expect(preview.permissions).to.include({ "pull-requests": "write" });
      expect(preview.strategy?.matrix.stack).to.contain("vars.PULUMI_STACKS");
      const pulumi = step(preview, "pulumi/actions")!;
      expect(pulumi.with).to.include({
        command: "preview",
        "stack-name": "${{ matrix.stack }}",
        "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        "comment-on-pr": true,
        policyPacks: "policy-pack",
      });
      expect(runs(preview)).to.contain("npm ci --prefix policy-pack");
    });

    it("keeps forks to the offline checks: preview needs a branch of this repository", () => {
      expect(preview.if).to.equal("github.event.pull_request.head.repo.full_name == github.repository");
      expect(checks.if).to.equal(undefined);
      expect(JSON.stringify(checks)).to.not.match(/secrets\.|id-token/);
    });
  });

  describe("deploy.yml", () => {
    const workflow = parse(read("deploy.yml")) as Workflow;
    const up = workflow.jobs.up;

    it("runs on pushes to main and on demand for a chosen stack", () => {
      expect(workflow.on.push).to.deep.equal({ branches: ["main"] });
      expect(workflow.on.workflow_dispatch).to.deep.equal({
        inputs: { stack: { description: "Stack to deploy (dev, prod, ...)", required: true, type: "string" } },
      });
    });

    it("deploys each stack in its GitHub environment, one at a time, never overlapping", () => {
      expect(up.environment).to.equal("${{ matrix.stack }}");
      expect(up.concurrency).to.deep.equal({ group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
      expect(up.strategy?.["max-parallel"]).to.equal(1);
      expect(up.needs).to.equal("stacks");
    });

    it("runs pulumi up with OIDC and the policy pack", () => {
      expectOidc(up);
      expect(step(up, "pulumi/actions")?.with).to.include({
        command: "up",
        "stack-name": "${{ matrix.stack }}",
        policyPacks: "policy-pack",
      });
      expectKnownScripts(up);
    });

    it("passes the requested stack through the environment, not into the script text", () => {
      const choose = workflow.jobs.stacks.steps[0];
      expect(choose.env).to.include({ REQUESTED: "${{ inputs.stack }}" });
      expect(choose.run).to.not.contain("${{");
    });
  });

  it("points at a policy pack that exists, with a lockfile for npm ci", () => {
    expect(fs.existsSync(path.join(ROOT, "policy-pack", "PulumiPolicy.yaml"))).to.equal(true);
    expect(fs.existsSync(path.join(ROOT, "policy-pack", "package-lock.json"))).to.equal(true);
  });
});
