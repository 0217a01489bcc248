import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { ROUTING_EXTENSION } from "../common/operationRouting";
import { inferenceSpec, parameterNames, prepareSpec, routedOperations, type OpenApiDocument } from "../openapi/spec";

// swagger-parser's own document type is stricter than ours; the validator checks the real shape.
const validate = (spec: OpenApiDocument) => SwaggerParser.validate(structuredClone(spec) as never);

describe("the bundled OpenAPI document", () => {
  it("is a valid OpenAPI 3.0 document, before and after preparation", async () => {
    const spec = inferenceSpec();
    expect(spec.openapi).to.match(/^3\.0\./);
    await validate(spec);
    await validate(prepareSpec(spec));
  });

  it("describes the classic routes, the Responses routes AzureOpenAI calls, and the v1 API, each with its routing", () => {
    expect(routedOperations(inferenceSpec()).map((o) => `${o.method} ${o.path} ${o.routing}`)).to.deep.equal([
      "post /deployments/{deployment-id}/chat/completions path",
      "post /deployments/{deployment-id}/completions path",
      "post /deployments/{deployment-id}/embeddings path",
      "post /deployments/{deployment-id}/images/generations path",
      "post /deployments/{deployment-id}/audio/transcriptions path",
      "post /deployments/{deployment-id}/audio/translations path",
      "post /deployments/{deployment-id}/audio/speech path",
      "post /deployments/{deployment-id}/images/edits path",
      "post /responses response-create",
      "get /responses/{response_id} response",
      "delete /responses/{response_id} response",
      "get /responses/{response_id}/input_items response",
      "post /responses/{response_id}/cancel response",
      "post /v1/chat/completions body",
      "post /v1/embeddings body",
      "post /v1/responses response-create",
      "get /v1/responses/{response_id} response",
      "delete /v1/responses/{response_id} response",
      "get /v1/responses/{response_id}/input_items response",
      "post /v1/responses/{response_id}/cancel response",
      "get /v1/models gateway",
    ]);
  });

  it("requires api-version on classic routes only, and the path parameters each route names", () => {
    const spec = inferenceSpec();
    const shared = spec.components!.parameters as Record<string, { name: string; in: string; required: boolean }>;
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const operation of Object.values(item)) {
        const names = parameterNames(spec, operation);
        const refs = (operation.parameters ?? []).map((p) => ("$ref" in p ? p.$ref.split("/").pop()! : p.name));
        // v1 takes api-version optionally (Microsoft's v1 reference: defaults to v1); the classic routes need it.
        expect(refs, path).to.include(path.startsWith("/v1/") ? "ApiVersionOptional" : "ApiVersion");
        for (const param of path.match(/\{([^}]+)\}/g) ?? []) {
          expect(names, path).to.include(param.slice(1, -1));
        }
        expect(ids.has(operation.operationId!), operation.operationId).to.equal(false);
        ids.add(operation.operationId!);
      }
    }
    expect(shared.ApiVersion).to.include({ name: "api-version", in: "query", required: true });
    expect(shared.ApiVersionOptional).to.include({ name: "api-version", in: "query", required: false });
    expect(shared.DeploymentId).to.include({ name: "deployment-id", in: "path", required: true });
    expect(shared.ResponseId).to.include({ name: "response_id", in: "path", required: true });
  });

  it("refuses an operation without a routing the policy knows", () => {
    const spec = inferenceSpec();
    delete spec.paths["/v1/embeddings"].post[ROUTING_EXTENSION];
    expect(() => routedOperations(spec)).to.throw("POST /v1/embeddings: x-openai-apim-routing is undefined");
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
    expect(spec.paths["/v1/models"].get[ROUTING_EXTENSION]).to.equal("gateway");
    // The routing marks are this project's, not APIM's: gone from what is imported, nothing else changed.
    for (const item of Object.values(prepared.paths)) {
      for (const operation of Object.values(item)) expect(operation).to.not.have.property(ROUTING_EXTENSION);
    }
    for (const item of Object.values(spec.paths)) {
      for (const operation of Object.values(item)) delete operation[ROUTING_EXTENSION];
    }
    expect(prepared.paths).to.deep.equal(spec.paths);
  });
});
