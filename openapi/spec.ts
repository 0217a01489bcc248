import inference from "./openai-inference.json";

/** The parts of an OpenAPI 3 document this module reads or changes. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: { url: string; variables?: Record<string, unknown> }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface OpenApiOperation {
  operationId?: string;
  parameters?: ({ $ref: string } | { name: string; in: string; required?: boolean })[];
  [key: string]: unknown;
}

/** HTTP methods an OpenAPI path item can hold. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** The bundled description of the Azure OpenAI inference operations the gateway fronts (a fresh copy). */
export function inferenceSpec(): OpenApiDocument {
  return structuredClone(inference) as OpenApiDocument;
}

export interface PrepareOptions {
  /** Title shown in APIM and the developer portal. */
  title?: string;
}

/**
 * The document as it is imported into APIM. `servers` is dropped: the API policy routes every call
 * to the backend pool, and an imported server URL would become a misleading `serviceUrl`.
 */
export function prepareSpec(spec: OpenApiDocument, options: PrepareOptions = {}): OpenApiDocument {
  const prepared = structuredClone(spec);
  delete prepared.servers;
  if (options.title) {
    prepared.info = { ...prepared.info, title: options.title };
  }
  return prepared;
}

/** Every operation as `{ method, path, operationId }`, in document order. */
export function operationsOf(spec: OpenApiDocument): { method: string; path: string; operationId?: string }[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ method, path, operationId: operation.operationId })),
  );
}

/**
 * Names of the parameters of an operation, with `$ref`s into `components.parameters` resolved, e.g.
 * `["deployment-id", "api-version"]`.
 */
export function parameterNames(spec: OpenApiDocument, operation: OpenApiOperation): string[] {
  const shared = (spec.components?.parameters ?? {}) as Record<string, { name: string }>;
  return (operation.parameters ?? []).map((p) =>
    "$ref" in p ? shared[p.$ref.replace("#/components/parameters/", "")]?.name : p.name,
  );
}
