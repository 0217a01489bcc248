import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { inferenceSpec, operationsOf, parameterNames, prepareSpec, type OpenApiDocument } from "../openapi/spec";

// swagger-parser's own document type is stricter than ours; the validator checks the real shape.
const validate = (spec: OpenApiDocument) => SwaggerParser.validate(structuredClone(spec) as never);

describe("the bundled OpenAPI document", () => {
  it("is a valid OpenAPI 3.0 document, before and after preparation", async () => {
    const spec = inferenceSpec();
    expect(spec.openapi).to.match(/^3\.0\./);
    await validate(spec);
    await validate(prepareSpec(spec));
  });

  it("describes chat completions, completions, embeddings, image generation and audio", () => {
    expect(operationsOf(inferenceSpec()).map((o) => `${o.method} ${o.path}`)).to.deep.equal([
      "post /deployments/{deployment-id}/chat/completions",
      "post /deployments/{deployment-id}/completions",
      "post /deployments/{deployment-id}/embeddings",
      "post /deployments/{deployment-id}/images/generations",
      "post /deployments/{deployment-id}/audio/transcriptions",
      "post /deployments/{deployment-id}/audio/translations",
    ]);
  });

  it("requires deployment-id and api-version on every operation, with unique operation ids", () => {
    const spec = inferenceSpec();
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const operation of Object.values(item)) {
        expect(parameterNames(spec, operation), path).to.include.members(["deployment-id", "api-version"]);
        expect(ids.has(operation.operationId!), operation.operationId).to.equal(false);
        ids.add(operation.operationId!);
      }
    }
    const shared = spec.components!.parameters as Record<string, { in: string; required: boolean }>;
    expect(shared.ApiVersion).to.include({ in: "query", required: true });
    expect(shared.DeploymentId).to.include({ in: "path", required: true });
  });

  it("fails validation when broken, so the check above can fail", async () => {
    const broken = inferenceSpec();
    (broken.paths["/deployments/{deployment-id}/embeddings"].post as Record<string, unknown>).responses = 42;
    let error: unknown;
    try {
      await validate(broken);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.contain("responses");
  });
});

describe("spec preparation", () => {
  it("drops servers (the policy routes to the pool), sets the title, and leaves the input untouched", () => {
    const spec = inferenceSpec();
    const prepared = prepareSpec(spec, { title: "Gateway" });
    expect(prepared.servers).to.equal(undefined);
    expect(prepared.info.title).to.equal("Gateway");
    expect(spec.servers).to.have.length(1);
    expect(prepared.paths).to.deep.equal(spec.paths);
  });
});
