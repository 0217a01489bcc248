import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.resolve(__dirname, "..", "..");

describe("npm run plan from a shell", function () {
  this.timeout(120_000);

  it("prints the dev stack's plan and exits 0", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-shell-"));
    const run = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "dev", "--out", dir], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('Offline plan for stack "dev"');
    expect(fs.readdirSync(dir).sort()).to.deep.equal([
      "alerts",
      "architecture.md",
      "openapi.json",
      "plan.json",
      "policy.xml",
      "workbook",
    ]);
  });

  it("prints a config error without a stack trace and exits 1", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-shell-"));
    const file = path.join(dir, "Pulumi.broken.yaml");
    fs.writeFileSync(file, "config:\n  azure-native:location: swedencentrl\n");
    const run = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack-file", file, "--out", dir], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.contain('azure-native:location: got "swedencentrl"');
    expect(run.stderr).to.not.match(/\n\s+at /);
    // Nothing but the message: no crash report of an unhandled rejection after it.
    const lines = run.stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines[0]).to.match(/^Invalid stack config/);
    for (const line of lines.slice(1)) expect(line).to.match(/^ {2}- openai-apim:|^ {2}- azure-native:/);
  });
});
