import {
  OPERATION_ROUTINGS,
  ROUTING_EXTENSION,
  type OperationRouting,
  type RoutedOperation,
} from "../common/operationRouting";
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
  /** How the gateway routes the operation (removed before import; see ROUTING_EXTENSION). */
  [ROUTING_EXTENSION]?: OperationRouting;
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
 * to a backend pool, and an imported server URL would become a misleading `serviceUrl`. The routing
 * extension is dropped too: it is this project's, not APIM's.
 */
export function prepareSpec(spec: OpenApiDocument, options: PrepareOptions = {}): OpenApiDocument {
  const prepared = structuredClone(spec);
  delete prepared.servers;
  for (const item of Object.values(prepared.paths)) {
    for (const operation of Object.values(item)) {
      delete operation[ROUTING_EXTENSION];
    }
  }
  if (options.title) {
    prepared.info = { ...prepared.info, title: options.title };
  }
  return prepared;
}

export interface OperationSummary {
  method: string;
  path: string;
  operationId?: string;
  routing?: OperationRouting;
}

/** Every operation as `{ method, path, operationId, routing }`, in document order. */
export function operationsOf(spec: OpenApiDocument): OperationSummary[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({
        method,
        path,
        operationId: operation.operationId,
        routing: operation[ROUTING_EXTENSION],
      })),
  );
}

/**
 * The operations of the document with their routing (ROUTING_EXTENSION), for the policy to classify
 * requests; throws on an operation without a known routing, which the gateway could not serve.
 */
export function routedOperations(spec: OpenApiDocument): RoutedOperation[] {
  return operationsOf(spec).map(({ method, path, routing }) => {
    if (!routing || !OPERATION_ROUTINGS.includes(routing)) {
      throw new Error(
        `${method.toUpperCase()} ${path}: ${ROUTING_EXTENSION} is ${JSON.stringify(routing)}; allowed: ${OPERATION_ROUTINGS.join(", ")}`,
      );
    }
    return { method, path, routing };
  });
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
