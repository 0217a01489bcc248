import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { runProgram } from "../offline/runtime/program";
import { readStackFile } from "../offline/runtime/stackFile";
import { captureOutput } from "./helpers";
import { gatewayDefinitionOf, startStandIn, type SeenRequest, type StandIn } from "./support/standIn/gateway";

/*
 * README "Point your client at the gateway": the TypeScript snippet runs as written (with the real
 * `openai` package and a stand-in for @azure/identity that mints a token the policy accepts) against the
 * local gateway stand-in; the Python snippet must make the same calls (Python cannot run here: no PyPI).
 */

const ROOT = path.resolve(__dirname, "..");
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = "11111111-2222-3333-4444-555555555555";

/** One SDK call a snippet makes, in terms both languages share. */
interface SnippetCall {
  client: "OpenAI" | "AzureOpenAI";
  auth: "key" | "entra";
  method: string;
  stream: boolean;
  previousResponse: boolean;
}

function readmeSection(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`## ${heading}\n`);
  expect(start, `README has no "## ${heading}" section`).to.be.greaterThan(-1);
  const end = readme.indexOf("\n## ", start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

function codeBlock(section: string, lang: string): string {
  const blocks = [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
  expect(blocks, `one ${lang} block`).to.have.length(1);
  return blocks[0];
}

/** Joins the lines of a statement spread over several (inside brackets), as a formatter writes them. */
function statements(source: string): string[] {
  let depth = 0;
  let out = "";
  for (const char of source) {
    if ("([{".includes(char)) depth++;
    if (")]}".includes(char)) depth--;
    out += char === "\n" && depth > 0 ? " " : char;
  }
  return out.split("\n").map((line) =>
    line
      .trim()
      .replace(/\s+/g, " ")
      .replace(/,\s*([}\])])/g, " $1"),
  );
}

/**
 * The SDK calls of a snippet: which client (by the constructor that made the variable), with which
 * credential, which method, streaming or continuing a response. Works on both languages' syntax.
 */
function snippetCalls(source: string, lang: "python" | "ts"): SnippetCall[] {
  const clients = new Map<string, Pick<SnippetCall, "client" | "auth">>();
  const constructor =
    lang === "ts" ? /const (\w+) = new (OpenAI|AzureOpenAI)\((.*)\);/ : /^(\w+) = (OpenAI|AzureOpenAI)\((.*)\)$/;
  const call = /(?:await |in )?(\w+)\.((?:\w+\.)*(?:create|list|retrieve|delete|cancel))\((.*)\)/;
  const calls: SnippetCall[] = [];
  for (const line of statements(source)) {
    const made = constructor.exec(line);
    if (made) {
      const entra = /azureADTokenProvider|azure_ad_token_provider|apiKey: token|api_key=token/.test(made[3]);
      clients.set(made[1], { client: made[2] as SnippetCall["client"], auth: entra ? "entra" : "key" });
      continue;
    }
    const used = call.exec(line);
    if (used && clients.has(used[1])) {
      calls.push({
        ...clients.get(used[1])!,
        method: used[2],
        stream: /stream[=:] ?(True|true)/.test(used[3]),
        previousResponse: /previous_response_id/.test(used[3]),
      });
    }
  }
  return calls;
}

/** The request a call must produce at the gateway. */
function expectedRequest(call: SnippetCall): Partial<SeenRequest> {
  const v1 = call.client === "OpenAI";
  const operations: Record<string, string> = {
    "chat.completions.create": v1 ? "ChatCompletions_CreateV1" : "ChatCompletions_Create",
    "responses.create": v1 ? "Responses_CreateV1" : "Responses_Create",
    "embeddings.create": v1 ? "Embeddings_CreateV1" : "Embeddings_Create",
    "models.list": "Models_ListV1",
  };
  expect(operations, `no expectation for ${call.method}`).to.have.property(call.method);
  return {
    operationId: operations[call.method],
    client: `${call.client}/JS`,
    credential: call.auth === "key" ? "api-key" : "bearer",
    stream: call.stream,
    status: 200,
  };
}

/** Puts the real `openai` package and an @azure/identity stand-in next to the snippet. */
function snippetDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-snippet-"));
  fs.mkdirSync(path.join(dir, "node_modules", "@azure", "identity"), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules", "openai"), path.join(dir, "node_modules", "openai"), "dir");
  const identity = path.join(dir, "node_modules", "@azure", "identity");
  fs.writeFileSync(
    path.join(identity, "package.json"),
    JSON.stringify({ name: "@azure/identity", type: "module", main: "index.js" }),
  );
  fs.writeFileSync(
    path.join(identity, "index.js"),
    [
      "// Test stand-in: mints an unsigned token with the claims the gateway's policy checks.",
      "export class DefaultAzureCredential {}",
      "const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');",
      "export function getBearerTokenProvider(_credential, scope) {",
      "  const aud = scope.replace(/\\/\\.default$/, '');",
      `  const claims = { aud, tid: "${TENANT}", appid: "${APP}", exp: Math.floor(Date.now() / 1000) + 3600 };`,
      "  return async () => `${part({ alg: 'RS256' })}.${part(claims)}.signature`;",
      "}",
    ].join("\n"),
  );
  return dir;
}

describe("README: Point your client at the gateway", function () {
  this.timeout(60_000);
  const section = readmeSection("Point your client at the gateway");
  const ts = codeBlock(section, "ts");
  const python = codeBlock(section, "python");

  it("shows OpenAI (v1), AzureOpenAI, streaming, Responses with previous_response_id and Entra ID, in both languages", () => {
    for (const [lang, calls] of [
      ["ts", snippetCalls(ts, "ts")],
      ["python", snippetCalls(python, "python")],
    ] as const) {
      const has = (test: (c: SnippetCall) => boolean) => calls.some(test);
      expect(
        has((c) => c.client === "OpenAI" && c.auth === "key"),
        lang,
      ).to.equal(true);
      expect(
        has((c) => c.client === "AzureOpenAI" && c.auth === "key"),
        lang,
      ).to.equal(true);
      expect(
        has((c) => c.stream),
        lang,
      ).to.equal(true);
      expect(
        has((c) => c.method === "responses.create" && c.previousResponse),
        lang,
      ).to.equal(true);
      expect(
        has((c) => c.client === "OpenAI" && c.auth === "entra"),
        lang,
      ).to.equal(true);
      expect(
        has((c) => c.client === "AzureOpenAI" && c.auth === "entra"),
        lang,
      ).to.equal(true);
    }
  });

  it("has Python make exactly the calls the TypeScript makes", () => {
    expect(snippetCalls(python, "python")).to.deep.equal(snippetCalls(ts, "ts"));
  });

  it("runs the TypeScript as written: every call matches an imported operation and is let in", async () => {
    const config = {
      ...readStackFile("dev").config,
      "openai-apim:clientAuth": JSON.stringify({ entraId: { tenantId: TENANT, allowedClientIds: [APP] } }),
    };
    const definition = gatewayDefinitionOf(await runProgram({ config, stack: "dev" }));
    const gateway: StandIn = await startStandIn(definition);
    const dir = snippetDir();
    const file = path.join(dir, "snippet.mts");
    fs.writeFileSync(file, ts);
    const env = { GATEWAY_ENDPOINT: process.env.GATEWAY_ENDPOINT, GATEWAY_KEY: process.env.GATEWAY_KEY };
    try {
      process.env.GATEWAY_ENDPOINT = gateway.endpoint;
      process.env.GATEWAY_KEY = definition.subscriptionKey;
      const { stdout } = await captureOutput(async () => {
        await import(pathToFileURL(file).href);
        return 0;
      });
      expect(stdout).to.contain("Hello from the gateway");
      const calls = snippetCalls(ts, "ts");
      expect(gateway.requests.map(pick)).to.deep.equal(calls.map(expectedRequest));
    } finally {
      Object.assign(process.env, env);
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
      await gateway.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const pick = (r: SeenRequest): Partial<SeenRequest> => ({
  operationId: r.operationId,
  client: r.client,
  credential: r.credential,
  stream: r.stream,
  status: r.status,
});
