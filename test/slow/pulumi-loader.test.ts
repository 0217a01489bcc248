import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import * as fs from "node:fs";
import { runProgram } from "../../offline/runtime/program";
import { readStackFile } from "../../offline/runtime/stackFile";

const ROOT = path.resolve(__dirname, "..", "..");

describe("the program as `pulumi up` loads it", function () {
  this.timeout(120_000);

  it("names index.ts as the program in Pulumi.yaml, so package.json's library entry does not replace it", () => {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    expect(project).to.deep.include({ name: "openai-apim", main: "index.ts" });
    expect(project.runtime).to.deep.equal({ name: "nodejs", options: { typescript: true } });
  });

  it("type-checks and runs with Pulumi's own TypeScript loader, registering what the plan shows", async () => {
    const child = spawnSync(process.execPath, [path.join(__dirname, "fixtures", "pulumi-ts-loader.cjs"), ROOT, "dev"], {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(child.status, child.stderr).to.equal(0);
    const loaded = JSON.parse(child.stdout) as { tsnode: string; types: string[] };
    expect(loaded.tsnode).to.match(/ts-node/);
    const viaTsx = await runProgram({ config: readStackFile("dev").config, stack: "dev" });
    expect([...loaded.types].sort()).to.deep.equal(viaTsx.resources.map((r) => r.type).sort());
    expect(loaded.types.length).to.be.greaterThan(20);
  });
});
