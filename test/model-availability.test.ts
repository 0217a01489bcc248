import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { ConfigError } from "../common/errors";
import { availabilityOf, AVAILABILITY_SNAPSHOT_DATE } from "../common/modelAvailability";
import { OpenAiScaleSet } from "../components/openAiScaleSet";
import { runPlan } from "../offline/commands/plan";
import { readStackFileAt } from "../offline/runtime/stackFile";
import { parseEngineConfig } from "../program/stackConfig";
import { attempt, configError } from "./helpers";

const ROOT = path.resolve(__dirname, "..");
const PROD_EXAMPLE = path.join(ROOT, "Pulumi.prod.yaml.example");

describe("model availability (Microsoft's tables, as a dated snapshot)", () => {
  it("knows where a model version is offered per SKU", () => {
    expect(availabilityOf("gpt-4o-mini", "2024-07-18", "GlobalStandard", "francecentral")).to.deep.equal({
      status: "available",
    });
    const embeddings = availabilityOf("text-embedding-3-small", "1", "Standard", "francecentral");
    expect(embeddings).to.deep.equal({
      status: "unavailable",
      regions: [
        "australiaeast",
        "canadaeast",
        "eastus",
        "eastus2",
        "japaneast",
        "switzerlandnorth",
        "uaenorth",
        "westus",
      ],
      skusInRegion: ["GlobalStandard", "DataZoneStandard"],
    });
    expect(AVAILABILITY_SNAPSHOT_DATE).to.match(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("says 'unknown' for a model or version the snapshot does not list, rather than 'unavailable'", () => {
    expect(availabilityOf("gpt-99", "1", "Standard", "eastus")).to.deep.include({ status: "unknown", what: "model" });
    const version = availabilityOf("gpt-4o", "2099-01-01", "Standard", "eastus");
    expect(version).to.deep.include({ status: "unknown", what: "version" });
    expect((version as { knownVersions: string[] }).knownVersions).to.include("2024-11-20");
  });

  it("takes declared availability over the snapshot", () => {
    const declared = [{ model: "text-embedding-3-small", version: "1", sku: "Standard", regions: ["francecentral"] }];
    expect(availabilityOf("text-embedding-3-small", "1", "Standard", "francecentral", declared).status).to.equal(
      "available",
    );
  });

  describe("the production example", () => {
    const example = readStackFileAt(PROD_EXAMPLE).config;

    it("is accepted as shipped", () => {
      expect(parseEngineConfig(example).instances).to.have.length(3);
    });

    const before = readStackFileAt(
      path.join(__dirname, "fixtures", "Pulumi.prod-before-availability-check.yaml"),
    ).config;

    it("is rejected as it was before (Standard embeddings in France and Germany), naming instance, deployment and regions", () => {
      const err = configError(() => parseEngineConfig(before));
      expect(err.problems.map((p) => p.key)).to.deep.equal([
        "openai-apim:instances[1].deployments.text-embedding-3-small",
        "openai-apim:instances[2].deployments.text-embedding-3-small",
      ]);
      const [france, germany] = err.problems;
      expect(france.given).to.equal('"text-embedding-3-small 1 (Standard) on instance francecentral in francecentral"');
      expect(france.allowed).to.contain(
        "a region where Microsoft offers text-embedding-3-small 1 with SKU Standard: australiaeast, canadaeast, eastus, eastus2, japaneast, switzerlandnorth, uaenorth, westus",
      );
      expect(france.allowed).to.contain("in francecentral it is offered as GlobalStandard, DataZoneStandard");
      expect(france.allowed).to.contain("additionalModelAvailability");
      expect(germany.given).to.contain("on instance germanywestcentral in germanywestcentral");
    });

    it("is accepted as it was before with the escape hatch: availability declared in openai-apim:additionalModelAvailability", () => {
      const declared = {
        ...before,
        "openai-apim:additionalModelAvailability": JSON.stringify([
          {
            model: "text-embedding-3-small",
            version: "1",
            sku: "Standard",
            regions: ["francecentral", "germanywestcentral"],
          },
        ]),
      };
      expect(parseEngineConfig(declared).instances).to.have.length(3);
    });
  });

  it("checks only what an instance hosts: a deployment turned off where it is not offered is fine", () => {
    const before = readStackFileAt(
      path.join(__dirname, "fixtures", "Pulumi.prod-before-availability-check.yaml"),
    ).config;
    const instances = JSON.parse(before["openai-apim:instances"]) as Record<string, unknown>[];
    const off = { "text-embedding-3-small": { enabled: false } };
    const hostedOnlyInSweden = {
      ...before,
      "openai-apim:instances": JSON.stringify(instances.map((i, n) => (n === 0 ? i : { ...i, deployments: off }))),
    };
    const parsed = parseEngineConfig(hostedOnlyInSweden);
    expect(parsed.resolvedInstances.map((i) => i.deployments.map((d) => d.name))).to.deep.equal([
      ["gpt-4o", "text-embedding-3-small"],
      ["gpt-4o"],
      ["gpt-4o"],
    ]);
  });

  it("refuses an unavailable deployment in OpenAiScaleSet args too, before registering anything", async () => {
    const { error, registered } = await attempt(
      () =>
        new OpenAiScaleSet("chat", {
          resourceGroupName: "rg",
          instances: [{ location: "swedencentral" }],
          deployments: [{ name: "emb", model: "text-embedding-3-small", version: "1", sku: "Standard" }],
        }),
    );
    expect(registered).to.deep.equal([]);
    expect((error as ConfigError).problems.map((p) => [p.key, p.given])).to.deep.equal([
      [
        "args.instances[0].deployments.emb",
        '"text-embedding-3-small 1 (Standard) on instance swedencentral in swedencentral"',
      ],
    ]);
  });

  it("makes a model the snapshot does not know a plan warning, not an error", async () => {
    const { plan } = await runPlan({
      stack: "dev",
      stackFile: path.join(__dirname, "fixtures", "Pulumi.future-model.yaml"),
    });
    expect(plan.warnings).to.include(
      `Deployment chat on swedencentral: Microsoft's availability tables of ${AVAILABILITY_SNAPSHOT_DATE} do not know model gpt-99; check that Azure offers it in swedencentral with SKU GlobalStandard before deploying.`,
    );
  });

  it("does not warn about a model the stack declares in additionalModelAvailability", async () => {
    const fixture = fs.readFileSync(path.join(__dirname, "fixtures", "Pulumi.future-model.yaml"), "utf8");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "declared-")), "Pulumi.declared.yaml");
    fs.writeFileSync(
      file,
      `${fixture}  openai-apim:additionalModelAvailability:\n    - { model: gpt-99, version: "2027-01-01", sku: GlobalStandard, regions: [swedencentral] }\n`,
    );
    const { plan } = await runPlan({ stack: "declared", stackFile: file });
    const unknown = plan.warnings.filter((w) => w.includes("do not know model gpt-99"));
    // Declared for swedencentral only: francecentral is still a surprise.
    expect(unknown.map((w) => w.split(":")[0])).to.deep.equal(["Deployment chat on francecentral"]);
  });
});
