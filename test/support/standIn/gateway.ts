import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { OperationRouting } from "../../../common/operationRouting";
import { clientEndpoint } from "../../../components/apimGatewayArgs";
import type { OpenApiDocument, OpenApiOperation } from "../../../openapi/spec";
import { operationRoutesFromPolicy, routesFromPolicy } from "../../../offline/plan/topology";
import { findAll, parseXml, type XmlElement } from "../../../offline/plan/xml";
import type { ProgramRun } from "../../../offline/runtime/recorder";
import { tokenValidation } from "../../../policy-pack/policies";
import { error, FakeAccount } from "./azureOpenAi";

/*
 * A local stand-in for the deployed gateway, built from what the program would deploy: the imported
 * OpenAPI document (which requests APIM matches to an operation: path, method, required parameters),
 * the API's subscription settings and the rendered policy (which credentials it accepts, how it routes,
 * what it answers itself). Behind it, one fake Azure OpenAI account. It records every request, so tests
 * can point the official SDKs at it and assert on what they really send.
 */

export interface GatewayDefinition {
  apiPath: string;
  subscriptionRequired: boolean;
  keyHeader: string;
  keyQuery: string;
  /** The document as imported (prepared). */
  openApi: OpenApiDocument;
  policyXml: string;
  /** The valid subscription key, if subscriptions exist. */
  subscriptionKey?: string;
}

export interface SeenRequest {
  method: string;
  url: string;
  /** The matched operation's path template, or undefined when APIM would match none. */
  template?: string;
  operationId?: string;
  routing?: OperationRouting;
  /** The SDK class that sent it, from its User-Agent (`OpenAI/JS`, `AzureOpenAI/JS`). */
  client: string;
  credential: "api-key" | "bearer" | "none";
  deployment?: string;
  stream: boolean;
  status: number;
}

export interface StandIn {
  /** Base URL of the local server (what `gatewayUrl` would be). */
  url: string;
  /** What clients take as their Azure endpoint (the `endpoint` output). */
  endpoint: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

const input = (run: ProgramRun, type: string) => run.resources.find((r) => r.type === type)?.inputs ?? {};

/** The gateway the program would deploy, from a recorded run. */
export function gatewayDefinitionOf(run: ProgramRun): GatewayDefinition {
  const api = input(run, "azure-native:apimanagement:Api");
  const names = api.subscriptionKeyParameterNames as { header: string; query: string };
  return {
    apiPath: String(api.path),
    subscriptionRequired: api.subscriptionRequired === true,
    keyHeader: names.header.toLowerCase(),
    keyQuery: names.query,
    openApi: JSON.parse(String(api.value)) as OpenApiDocument,
    policyXml: String(input(run, "azure-native:apimanagement:ApiPolicy").value),
    subscriptionKey: typeof run.outputs.subscriptionKey === "string" ? run.outputs.subscriptionKey : undefined,
  };
}

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  params: string[];
  operation: OpenApiOperation;
}

function operationsOf(spec: OpenApiDocument): Operation[] {
  return Object.entries(spec.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, operation]) => {
      const params = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "([^/]+)");
      return { method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), params, operation };
    }),
  );
}

/** Required parameters of an operation the request lacks, as `in:name`. */
function missingParameters(spec: OpenApiDocument, op: OpenApiOperation, url: URL, headers: http.IncomingHttpHeaders) {
  const shared = (spec.components?.parameters ?? {}) as Record<
    string,
    { name: string; in: string; required?: boolean }
  >;
  return (op.parameters ?? [])
    .map((p) => ("$ref" in p ? shared[p.$ref.split("/").pop()!] : p))
    .filter((p) => p.required && p.in !== "path")
    .filter((p) => (p.in === "query" ? !url.searchParams.has(p.name) : headers[p.name.toLowerCase()] === undefined))
    .map((p) => `${p.in}:${p.name}`);
}

function apimError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ statusCode: status, message }));
}

/** The status and body of the first return-response under `scope`. */
function answerOf(scope: XmlElement): { status: number; body: string } {
  const answer = findAll(scope, "return-response")[0];
  const status = findAll(answer, "set-status")[0];
  return { status: Number(status.attributes.code), body: findAll(answer, "set-body")[0].text };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function decodeJwt(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function startStandIn(def: GatewayDefinition): Promise<StandIn> {
  const operations = operationsOf(def.openApi);
  const policy = parseXml(def.policyXml);
  const routings = new Map(
    operationRoutesFromPolicy(def.policyXml, JSON.stringify(def.openApi)).map((o) => [
      `${o.method} ${o.path}`,
      o.routing,
    ]),
  );
  const deployments = new Set(routesFromPolicy(def.policyXml).map((r) => r.deployment));
  const whens = findAll(policy, "when");
  const routingChoose = findAll(policy, "choose").find((c) =>
    c.children.some((w) => /Variables\["deployment"\] == "[^"]+"/.test(w.attributes.condition ?? "")),
  )!;
  const notFound = answerOf(routingChoose.children.find((c) => c.tag === "otherwise")!);
  const missingModel = answerOf(
    whens.find((w) => w.attributes.condition === '@((string)context.Variables["deployment"] == "")')!,
  );
  const token = tokenValidation(def.policyXml);
  const tokenMessage = /failed-validation-error-message="([^"]*)"/.exec(def.policyXml)?.[1] ?? "Unauthorized";
  const account = new FakeAccount();
  const requests: SeenRequest[] = [];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const prefix = `/${def.apiPath}`;
    const rest = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : undefined;
    const matched =
      rest === undefined ? undefined : operations.find((o) => o.method === req.method && o.pattern.test(rest));
    if (!matched) {
      apimError(res, 404, "Resource not found");
      return;
    }
    seen.template = matched.template;
    seen.operationId = matched.operation.operationId;
    seen.routing = routings.get(`${matched.method.toLowerCase()} ${matched.template}`);
    const missing = missingParameters(def.openApi, matched.operation, url, req.headers);
    if (missing.length) {
      apimError(res, 400, `Missing required parameters: ${missing.join(", ")}`);
      return;
    }

    // APIM checks a sent key before any policy, and requires one where the API says so.
    const key = (req.headers[def.keyHeader] as string | undefined) ?? url.searchParams.get(def.keyQuery) ?? undefined;
    const authorization = req.headers.authorization;
    seen.credential = key !== undefined ? "api-key" : authorization ? "bearer" : "none";
    if (key !== undefined && key !== def.subscriptionKey) {
      apimError(
        res,
        401,
        "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
      );
      return;
    }
    if (key === undefined && def.subscriptionRequired) {
      apimError(
        res,
        401,
        "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
      );
      return;
    }
    // validate-azure-ad-token as the policy configures it (claims only: the stand-in cannot check signatures).
    if (token && (token.applies === "always" || (token.applies === "without-key" && key === undefined))) {
      const claims = authorization?.startsWith("Bearer ") ? decodeJwt(authorization.slice(7)) : undefined;
      const app = String(claims?.appid ?? claims?.azp ?? "");
      const valid =
        claims !== undefined &&
        token.audiences.includes(String(claims.aud)) &&
        (claims.tid === token.tenantId || String(claims.iss ?? "").includes(String(token.tenantId))) &&
        (token.clientIds.length === 0 || token.clientIds.includes(app)) &&
        Number(claims.exp ?? 0) * 1000 > Date.now();
      if (!valid) {
        apimError(res, 401, tokenMessage);
        return;
      }
    }

    const raw = await readBody(req);
    const isJson = String(req.headers["content-type"] ?? "").startsWith("application/json");
    const body = (isJson && raw.length ? JSON.parse(raw.toString("utf8")) : {}) as Record<string, unknown>;
    seen.stream = body.stream === true;
    const routing = seen.routing ?? "path";
    if (routing === "gateway") {
      const answer = answerOf(whens.find((w) => w.attributes.condition?.includes(`"${matched.template}"`))!);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body);
      return;
    }
    const args = Object.fromEntries(
      matched.params.map((p, i) => [p, decodeURIComponent(matched.pattern.exec(rest!)![i + 1])]),
    );
    let deployment = "";
    if (routing === "path") deployment = String(args["deployment-id"]).toLowerCase();
    if (routing === "body" || routing === "response-create") {
      deployment = typeof body.model === "string" ? body.model.toLowerCase() : "";
      if (!deployment) {
        res.writeHead(missingModel.status, { "content-type": "application/json" });
        res.end(missingModel.body);
        return;
      }
    }
    if (routing !== "response") {
      seen.deployment = deployment;
      if (!deployments.has(deployment)) {
        res.writeHead(notFound.status, { "content-type": "application/json" });
        res.end(notFound.body);
        return;
      }
    }

    const op = matched.template;
    if (routing === "response") {
      const action = op.endsWith("/input_items") ? "input_items" : op.endsWith("/cancel") ? "cancel" : "";
      account.onResponse(res, req.method!, args.response_id, action);
    } else if (op.endsWith("/responses")) account.createResponse(res, deployment, body);
    else if (op.endsWith("/chat/completions")) account.chat(res, deployment, body);
    else if (op.endsWith("/completions")) account.completion(res, deployment);
    else if (op.endsWith("/embeddings")) account.embeddings(res, deployment, body);
    else if (op.includes("/images/")) account.image(res);
    else if (op.endsWith("/audio/speech")) account.speech(res);
    else if (op.includes("/audio/")) account.transcription(res);
    else error(res, 500, "StandInGap", `the stand-in has no answer for ${op}`);
  };

  const server = http.createServer((req, res) => {
    const seen: SeenRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      client: String(req.headers["user-agent"] ?? "").split(" ")[0],
      credential: "none",
      stream: false,
      status: 0,
    };
    res.on("finish", () => {
      seen.status = res.statusCode;
      requests.push(seen);
    });
    handle(req, res, seen).catch((err: unknown) => {
      if (!res.headersSent) apimError(res, 500, String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    endpoint: clientEndpoint(url, def.apiPath),
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An unsigned JWT with the claims validate-azure-ad-token reads (the stand-in checks claims only). */
export function fakeEntraToken(claims: { tenantId: string; audience: string; appId: string }): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = {
    aud: claims.audience,
    tid: claims.tenantId,
    iss: `https://sts.windows.net/${claims.tenantId}/`,
    appid: claims.appId,
    exp: Math.floor(Date.now() / 1000) + 3600,
  };
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(payload)}.signature`;
}
