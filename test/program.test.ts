import { expect } from "chai";
import { parseEngineConfig } from "../program/stackConfig";
import { runProgram } from "../offline/runtime/program";
import * as random from "@pulumi/random";
import { runMocked, type ProgramRun, type RecordedResource } from "../offline/runtime/recorder";
import { readStackFile } from "../offline/runtime/stackFile";
import { input, ofType, openAiUserGrants, TYPES } from "./helpers";

describe("the program with the dev stack", () => {
  const stack = readStackFile("dev");
  const config = parseEngineConfig(stack.config);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ config: stack.config, stack: "dev" });
  });

  it("creates the resource group in the primary region with the stack's tags", () => {
    const [rg] = ofType(run.resources, TYPES.resourceGroup);
    expect(rg.inputs).to.deep.equal({
      resourceGroupName: "rg-openai-apim-dev",
      location: config.location,
      tags: config.tags,
    });
  });

  it("runs inside its stack as pulumi up does: top-level resources keep their URNs and no parent", () => {
    const [rg] = ofType(run.resources, TYPES.resourceGroup);
    expect(rg.parent).to.equal("");
    expect(rg.urn).to.equal(`urn:pulumi:dev::openai-apim::${TYPES.resourceGroup}::rg`);
    expect(run.resources.map((r) => r.type)).to.not.include("pulumi:pulumi:Stack");
    const gateway = run.resources.find((r) => r.type === "openai-apim:index:ApimGateway")!;
    expect(gateway.parent).to.equal("");
    expect(ofType(run.resources, TYPES.apiPolicy)[0].parent).to.equal(gateway.urn);
  });

  it("records engine URNs and parents as registrations arrive, also when the program then throws", async () => {
    const seen: RecordedResource[] = [];
    let thrown: unknown;
    try {
      await runMocked({ config: {}, onRegister: (r) => seen.push(r) }, () => {
        new random.RandomString("suffix", { length: 6 });
        throw new Error("after one resource");
      });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).to.equal("after one resource");
    expect(seen.map((r) => [r.name, r.parent, r.urn])).to.deep.equal([
      ["suffix", "", "urn:pulumi:dev::openai-apim::random:index/randomString:RandomString::suffix"],
    ]);
  });

  it("creates exactly the accounts and deployments the config describes", () => {
    const accounts = ofType(run.resources, TYPES.account);
    expect(accounts.map((a) => input(a, "location"))).to.deep.equal(config.instances.map((i) => i.location));
    const deployments = ofType(run.resources, TYPES.deployment);
    expect(deployments).to.have.length(config.instances.length * config.deployments.length);
    for (const d of deployments) {
      const wanted = config.deployments.find((c) => c.name === input(d, "deploymentName"))!;
      expect(input(d, "sku")).to.deep.equal({ name: wanted.sku, capacity: wanted.capacity });
      expect(input(d, "properties", "model")).to.deep.equal({
        format: "OpenAI",
        name: wanted.model,
        version: wanted.version,
      });
      expect(input(d, "resourceGroupName")).to.equal("rg-openai-apim-dev");
    }
  });

  it("exports the per-model capacity with the N-1 figure", () => {
    const capacity = run.outputs.capacity as {
      deployment: string;
      tokensPerMinute: number;
      tokensPerMinuteNMinus1: number;
    }[];
    expect(capacity.map((c) => [c.deployment, c.tokensPerMinute, c.tokensPerMinuteNMinus1])).to.deep.equal([
      ["gpt-4o-mini", 20_000, 10_000],
    ]);
  });

  it("puts one gateway in front of the accounts: N role assignments, N breaker backends, one pool", () => {
    const accounts = ofType(run.resources, TYPES.account);
    expect(ofType(run.resources, TYPES.service)).to.have.length(1);
    expect(openAiUserGrants(run.resources).map((a) => input(a, "scope"))).to.deep.equal(accounts.map((a) => a.id));
    const backends = ofType(run.resources, TYPES.backend);
    const singles = backends.filter(
      (b) => input(b, "type") === "Single" && String(input(b, "backendId")).startsWith("openai-"),
    );
    expect(singles.map((b) => input(b, "url"))).to.deep.equal(
      accounts.map((a) => `https://${input(a, "properties", "customSubDomainName")}.openai.azure.com/openai`),
    );
    const pools = backends.filter((b) => input(b, "type") === "Pool");
    expect(pools).to.have.length(1);
    expect((input(pools[0], "pool", "services") as { id: string }[]).map((s) => s.id)).to.deep.equal(
      singles.map((b) => b.id),
    );
  });

  it("creates the API with its policy, the product and the subscription", () => {
    for (const type of [TYPES.api, TYPES.apiPolicy, TYPES.product, TYPES.subscription]) {
      expect(ofType(run.resources, type), type).to.have.length(1);
    }
  });

  it("exports the gateway endpoint, and the subscription key and App Insights connection string as secrets", () => {
    const [service] = ofType(run.resources, TYPES.service);
    expect(run.outputs.endpoint).to.equal(`https://${input(service, "serviceName")}.azure-api.net`);
    expect(run.secretOutputs).to.have.members([
      "subscriptionKey",
      "teamSubscriptionKeys",
      "appInsightsConnectionString",
    ]);
  });

  it("monitors by default: workspace, workspace-based App Insights, logger, diagnostic, N+1 diagnostic settings", () => {
    expect(ofType(run.resources, TYPES.workspace)).to.have.length(1);
    expect(input(ofType(run.resources, TYPES.appInsights)[0], "workspaceResourceId")).to.equal(
      ofType(run.resources, TYPES.workspace)[0].id,
    );
    expect(ofType(run.resources, TYPES.logger)).to.have.length(1);
    expect(ofType(run.resources, TYPES.diagnostic)).to.have.length(1);
    expect(ofType(run.resources, TYPES.diagnosticSetting)).to.have.length(config.instances.length + 1);
    expect(run.outputs.workspaceId).to.equal(ofType(run.resources, TYPES.workspace)[0].id);
  });
});
