import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { RecordedResource } from "../../offline/runtime/recorder";

/*
 * The package as another stack gets it: `npm pack` (which builds, through `prepare`) in a temporary
 * copy of the sources, so the working tree's dist/ is never rewritten; install the tarball into a
 * temporary copy of each example, and run the example under mocks with the SDK that install brought.
 */

const ROOT = path.resolve(__dirname, "..", "..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

interface ExampleRun {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

let tarball: string;
let packedFiles: string[];
const work = fs.mkdtempSync(path.join(os.tmpdir(), "openai-apim-package-"));

/** Installs the tarball into a copy of `examples/<name>` and runs its index.ts under mocks in a child process. */
function runExample(name: string): ExampleRun {
  const dir = path.join(work, name);
  fs.cpSync(path.join(ROOT, "examples", name), dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  manifest.dependencies["openai-apim"] = `file:${tarball}`;
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  execFileSync(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=dev"], {
    cwd: dir,
    stdio: "pipe",
  });
  // The offline runtime imports "@pulumi/pulumi": copied next to the example, it uses the SDK the
  // install brought, which is the one the package's components register with.
  fs.cpSync(path.join(ROOT, "offline", "runtime"), path.join(dir, "runtime"), { recursive: true });
  const runner = [
    `const { runProgram } = require(${JSON.stringify(path.join(dir, "runtime", "program.ts"))});`,
    `runProgram({ config: {}, project: ${JSON.stringify(name)}, stack: "dev", entry: ${JSON.stringify(path.join(dir, "index.ts"))} })`,
    `  .then((run) => process.stdout.write(JSON.stringify({ resources: run.resources, outputs: run.outputs })))`,
    `  .catch((err) => { console.error(err); process.exitCode = 1; });`,
  ].join("\n");
  const stdout = execFileSync(process.execPath, ["--require", require.resolve("tsx/cjs"), "-e", runner], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ExampleRun;
}

const ofType = (run: ExampleRun, type: string) => run.resources.filter((r) => r.type === type);

/** What `npm pack` needs to build the library: the manifest, build config and the library's layers. */
const PACKAGE_SOURCES = [
  "package.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "README.md",
  "LICENSE",
  "PulumiPlugin.yaml",
  "scripts",
  "common",
  "policies",
  "openapi",
  "queries",
  "components",
  "simulator",
];

/** Names and modification times of every file under `dir`, or undefined if it does not exist. */
function treeStamp(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .sort()
    .map((f) => `${f}@${fs.statSync(path.join(dir, f)).mtimeMs}`)
    .join("\n");
}

describe("the npm package", function () {
  this.timeout(300_000);

  let distBefore: string | undefined;
  before(() => {
    distBefore = treeStamp(path.join(ROOT, "dist"));
    const source = path.join(work, "source");
    for (const entry of PACKAGE_SOURCES) {
      fs.cpSync(path.join(ROOT, entry), path.join(source, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(source, "node_modules"), "dir");
    const out = execFileSync(NPM, ["pack", "--json", "--pack-destination", work], {
      cwd: source,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [packed] = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, packed.filename);
    packedFiles = packed.files.map((f) => f.path);
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("ships compiled JavaScript, declarations, policy and query templates, the OpenAPI document and PulumiPlugin.yaml", () => {
    expect(packedFiles).to.include.members([
      "dist/components/index.js",
      "dist/components/index.d.ts",
      "dist/components/apimGateway.d.ts",
      "dist/policies/openai-api.xml",
      "dist/policies/retry-pool.xml",
      "dist/policies/responses-lookup.xml",
      "dist/queries/alerts/backend-failing.kql",
      "dist/queries/workbook/latency.kql",
      "dist/openapi/openai-inference.json",
      "dist/common/errors.js",
      "dist/simulator/index.js",
      "dist/simulator/index.d.ts",
      "PulumiPlugin.yaml",
      "package.json",
    ]);
  });

  it("leaves the program, its stacks, tests and tooling out", () => {
    for (const file of packedFiles) {
      expect(file).to.not.match(
        /^(index\.ts|Pulumi\.(dev|yaml)|test\/|offline\/|program\/|examples\/|components\/)|^dist\/program\//,
      );
    }
  });

  it("never rewrites the working tree's dist/", () => {
    expect(treeStamp(path.join(ROOT, "dist"))).to.equal(distBefore);
  });

  it("works for a stack that creates a scale set with two regions and a gateway over it", () => {
    const run = runExample("scale-set-and-gateway");
    const [scaleSet] = ofType(run, "openai-apim:index:OpenAiScaleSet");
    const [gateway] = ofType(run, "openai-apim:index:ApimGateway");
    expect(scaleSet.name).to.equal("chat");
    expect(gateway.name).to.equal("chat-gateway");

    const accounts = ofType(run, "azure-native:cognitiveservices:Account");
    expect(accounts.map((a) => a.inputs.location)).to.deep.equal(["swedencentral", "francecentral"]);
    for (const child of [...accounts, ...ofType(run, "azure-native:cognitiveservices:Deployment")]) {
      expect(child.parent, child.name).to.equal(scaleSet.urn);
    }
    for (const child of [
      ...ofType(run, "azure-native:apimanagement:Backend"),
      ...ofType(run, "azure-native:authorization:RoleAssignment"),
    ]) {
      expect(child.parent, child.name).to.equal(gateway.urn);
    }

    const backends = ofType(run, "azure-native:apimanagement:Backend");
    const singles = backends.filter(
      (b) => b.inputs.type === "Single" && !String(b.inputs.backendId).startsWith("account-"),
    );
    const [pool] = backends.filter((b) => b.inputs.type === "Pool");
    expect(singles.map((b) => b.inputs.url)).to.deep.equal(
      accounts.map(
        (a) => `https://${(a.inputs.properties as Record<string, string>).customSubDomainName}.openai.azure.com/openai`,
      ),
    );
    expect(pool.inputs.pool).to.deep.equal({
      services: [
        { id: singles[0].id, priority: 1, weight: 1 },
        { id: singles[1].id, priority: 2, weight: 1 },
      ],
    });
    expect(run.outputs.endpoint).to.match(/^https:\/\/chat-gateway-[a-z0-9]{6}\.azure-api\.net$/);
  });

  it("works for a gateway in front of two existing accounts, without OpenAiScaleSet", () => {
    const run = runExample("existing-accounts");
    expect(ofType(run, "openai-apim:index:OpenAiScaleSet")).to.deep.equal([]);
    expect(ofType(run, "azure-native:cognitiveservices:Account")).to.deep.equal([]);
    const [gateway] = ofType(run, "openai-apim:index:ApimGateway");
    const assignments = ofType(run, "azure-native:authorization:RoleAssignment").filter((a) =>
      String(a.inputs.roleDefinitionId).endsWith("/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"),
    );
    expect(assignments.map((a) => a.inputs.scope)).to.deep.equal([
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared-openai/providers/Microsoft.CognitiveServices/accounts/contoso-openai-weu",
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared-openai/providers/Microsoft.CognitiveServices/accounts/contoso-openai-neu",
    ]);
    const backends = ofType(run, "azure-native:apimanagement:Backend");
    const singles = backends.filter(
      (b) => b.inputs.type === "Single" && !String(b.inputs.backendId).startsWith("account-"),
    );
    const single = (id: string) => singles.find((b) => b.inputs.backendId === id)!.id;
    expect(singles.map((b) => [b.inputs.backendId, b.inputs.url])).to.deep.equal([
      ["openai-westeurope-gpt-4o", "https://contoso-openai-weu.openai.azure.com/openai"],
      ["openai-westeurope-text-embedding-3-small", "https://contoso-openai-weu.openai.azure.com/openai"],
      ["openai-northeurope-gpt-4o", "https://contoso-openai-neu.openai.azure.com/openai"],
    ]);
    const pool = (id: string) => backends.find((b) => b.inputs.backendId === id)!.inputs.pool;
    expect(pool("pool-gpt-4o")).to.deep.equal({
      services: [
        { id: single("openai-westeurope-gpt-4o"), priority: 1, weight: 50 },
        { id: single("openai-northeurope-gpt-4o"), priority: 1, weight: 50 },
      ],
    });
    expect(pool("pool-text-embedding-3-small")).to.deep.equal({
      services: [{ id: single("openai-westeurope-text-embedding-3-small"), priority: 1, weight: 50 }],
    });
    for (const r of run.resources.filter((x) => x !== gateway)) {
      expect(r.parent, r.name).to.equal(gateway.urn);
    }
    expect(ofType(run, "azure-native:monitor:DiagnosticSetting").map((s) => s.name)).to.deep.equal([
      "shared-gateway-diag-apim",
    ]);
  });
});
