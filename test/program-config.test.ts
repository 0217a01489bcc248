import { expect } from "chai";
import { ConfigError } from "../common/errors";
import { runProgram } from "../offline/runtime/program";
import type { RecordedResource } from "../offline/runtime/recorder";
import { readStackFile } from "../offline/runtime/stackFile";

/** Runs index.ts under mocks and returns what it registered before failing (or finishing). */
async function attempt(config: Record<string, string>): Promise<{ error?: unknown; resources: RecordedResource[] }> {
  const registered: RecordedResource[] = [];
  try {
    const run = await runProgram({ config, onRegister: (r) => registered.push(r) });
    return { resources: run.resources };
  } catch (error) {
    return { error, resources: registered };
  }
}

describe("the program with malformed stack config", () => {
  const dev = () => ({ ...readStackFile("dev").config });

  const malformed: [string, (c: Record<string, string>) => void, string][] = [
    [
      "a region typo",
      (c) => (c["openai-apim:instances"] = JSON.stringify([{ location: "francecentrl" }])),
      "openai-apim:instances[0].location",
    ],
    [
      "the Consumption tier",
      (c) =>
        (c["openai-apim:apim"] = JSON.stringify({ sku: "Consumption", publisherEmail: "a@b.co", publisherName: "x" })),
      "openai-apim:apim.sku",
    ],
    ["no deployments", (c) => delete c["openai-apim:deployments"], "openai-apim:deployments"],
    ["a misspelled top-level key", (c) => (c["openai-apim:circuitbreaker"] = "{}"), "openai-apim:circuitbreaker"],
  ];

  for (const [what, mutate, key] of malformed) {
    it(`registers no resource and names ${key} for ${what}`, async () => {
      const config = dev();
      mutate(config);
      const { error, resources } = await attempt(config);
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).message).to.contain(key);
      expect(resources.map((r) => r.type)).to.deep.equal([]);
    });
  }

  it("registers resources for the valid dev stack (so the checks above can fail)", async () => {
    const { error, resources } = await attempt(dev());
    expect(error).to.equal(undefined);
    expect(resources.map((r) => r.type)).to.include("azure-native:resources:ResourceGroup");
  });
});
