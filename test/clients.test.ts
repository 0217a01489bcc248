import { expect } from "chai";
import OpenAI, { AzureOpenAI, toFile } from "openai";
import { runProgram } from "../offline/runtime/program";
import { fakeEntraToken, gatewayDefinitionOf, startStandIn, type StandIn } from "./support/standIn/gateway";

/*
 * The official `openai` package against a local stand-in built from what the program would deploy
 * (the imported OpenAPI document, the API's subscription settings, the rendered policy): every call
 * must match an imported operation, with its required parameters, and carry a credential the gateway
 * accepts. What the SDKs send is what they really send, not what we expect them to.
 */

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = "11111111-2222-3333-4444-555555555555";
const AUDIENCE = "https://cognitiveservices.azure.com";
const API_VERSION = "2025-04-01-preview";

const CONFIG = {
  "azure-native:location": "swedencentral",
  "openai-apim:instances": JSON.stringify([{ location: "swedencentral" }]),
  "openai-apim:deployments": JSON.stringify([
    { name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard", capacity: 10 },
    { name: "embeddings", model: "text-embedding-3-small", version: "1", sku: "GlobalStandard", capacity: 10 },
    { name: "tts", model: "tts", version: "001", sku: "Standard", capacity: 1 },
    { name: "whisper", model: "whisper", version: "001", sku: "Standard", capacity: 1 },
    { name: "gpt-image-1", model: "gpt-image-1", version: "2025-04-15", sku: "GlobalStandard", capacity: 1 },
  ]),
  "openai-apim:apim": JSON.stringify({ sku: "BasicV2", publisherEmail: "a@contoso.com", publisherName: "Contoso" }),
};

async function gatewayWith(clientAuth?: unknown): Promise<{ gateway: StandIn; key?: string }> {
  const config = clientAuth ? { ...CONFIG, "openai-apim:clientAuth": JSON.stringify(clientAuth) } : CONFIG;
  const definition = gatewayDefinitionOf(await runProgram({ config, stack: "dev" }));
  return { gateway: await startStandIn(definition), key: definition.subscriptionKey };
}

/** What the plain OpenAI client needs against the gateway: the v1 base URL and the key as api-key. */
const v1Client = (gateway: StandIn, key: string) =>
  new OpenAI({
    baseURL: `${gateway.endpoint}/openai/v1`,
    apiKey: "unused",
    defaultHeaders: { "api-key": key, Authorization: null },
    maxRetries: 0,
  });

const last = (gateway: StandIn) => gateway.requests[gateway.requests.length - 1];
const chat = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Hello" }] };

describe("official OpenAI SDK against the gateway: subscription key", function () {
  this.timeout(30_000);
  let gateway: StandIn;
  let key: string;
  before(async () => {
    const started = await gatewayWith();
    gateway = started.gateway;
    key = started.key!;
  });
  after(() => gateway.close());
  beforeEach(() => gateway.requests.splice(0));

  it("OpenAI (v1): chat, embeddings and models, each matched to a v1 operation with the key as api-key", async () => {
    const client = v1Client(gateway, key);
    const reply = await client.chat.completions.create(chat);
    expect(reply.choices[0].message.content).to.equal("Hello from the gateway");
    const embedding = await client.embeddings.create({ model: "embeddings", input: "Hello" });
    // The SDK asks for base64 and decodes it: the gateway passed the body through untouched.
    expect(embedding.data[0].embedding).to.deep.equal([0.25, -0.5, 1]);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).to.deep.equal(["gpt-4o-mini", "embeddings", "tts", "whisper", "gpt-image-1"]);
    expect(gateway.requests.map((r) => [r.operationId, r.credential, r.client, r.status])).to.deep.equal([
      ["ChatCompletions_CreateV1", "api-key", "OpenAI/JS", 200],
      ["Embeddings_CreateV1", "api-key", "OpenAI/JS", 200],
      ["Models_ListV1", "api-key", "OpenAI/JS", 200],
    ]);
    // No api-version: the v1 API does not need one.
    for (const r of gateway.requests) expect(r.url).to.not.contain("api-version");
  });

  it("OpenAI (v1): streams chat with a usage chunk, passed through as server-sent events", async () => {
    const stream = await v1Client(gateway, key).chat.completions.create({
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).to.equal("Hello from the gateway");
    expect(usage).to.deep.equal({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
    expect(last(gateway)).to.include({ operationId: "ChatCompletions_CreateV1", stream: true, status: 200 });
  });

  it("OpenAI (v1): Responses with previous_response_id, retrieve, input items, cancel, delete and streaming", async () => {
    const client = v1Client(gateway, key);
    const first = await client.responses.create({ model: "gpt-4o-mini", input: "Name a colour." });
    const next = await client.responses.create({
      model: "gpt-4o-mini",
      input: "Another.",
      previous_response_id: first.id,
    });
    expect(next.output_text).to.equal("Another colour: green.");
    expect((await client.responses.retrieve(next.id)).previous_response_id).to.equal(first.id);
    expect((await client.responses.inputItems.list(next.id)).data).to.have.length(1);
    expect((await client.responses.cancel(next.id)).status).to.equal("cancelled");
    await client.responses.delete(first.id);
    const events: string[] = [];
    for await (const event of await client.responses.create({ model: "gpt-4o-mini", input: "Hi", stream: true })) {
      events.push(event.type);
    }
    expect(events).to.deep.equal(["response.created", "response.output_text.delta", "response.completed"]);
    expect(gateway.requests.map((r) => [r.method, r.operationId, r.routing, r.status])).to.deep.equal([
      ["POST", "Responses_CreateV1", "response-create", 200],
      ["POST", "Responses_CreateV1", "response-create", 200],
      ["GET", "Responses_GetV1", "response", 200],
      ["GET", "Responses_ListInputItemsV1", "response", 200],
      ["POST", "Responses_CancelV1", "response", 200],
      ["DELETE", "Responses_DeleteV1", "response", 200],
      ["POST", "Responses_CreateV1", "response-create", 200],
    ]);
  });

  it("OpenAI (v1): an unknown model gets the gateway's 404, a missing one its 400", async () => {
    const client = v1Client(gateway, key);
    const err = await client.chat.completions.create({ ...chat, model: "gpt-5" }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).to.equal("DeploymentNotFound");
    expect((err as Error).message).to.contain("This gateway serves: gpt-4o-mini, embeddings");
    const missing = await client.responses.create({ input: "Hi" } as never).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(OpenAI.BadRequestError);
  });

  it("OpenAI (v1) with the key as its API key sends Authorization: Bearer <key>, which APIM does not read: 401", async () => {
    const client = new OpenAI({ baseURL: `${gateway.endpoint}/openai/v1`, apiKey: key, maxRetries: 0 });
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.AuthenticationError);
    expect(last(gateway)).to.include({ credential: "bearer", status: 401 });
  });

  it("AzureOpenAI: chat, streaming, embeddings, speech, transcription and images on the classic routes", async () => {
    const client = new AzureOpenAI({ endpoint: gateway.endpoint, apiKey: key, apiVersion: API_VERSION, maxRetries: 0 });
    await client.chat.completions.create(chat);
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    for await (const chunk of stream) void chunk;
    await client.embeddings.create({ model: "embeddings", input: "Hello" });
    const speech = await client.audio.speech.create({ model: "tts", voice: "alloy", input: "Hello" });
    expect(Buffer.from(await speech.arrayBuffer())).to.have.length(4);
    const audio = await toFile(Buffer.from("RIFF"), "hello.wav");
    expect((await client.audio.transcriptions.create({ model: "whisper", file: audio })).text).to.equal("Hello");
    await client.images.generate({ model: "gpt-image-1", prompt: "a cat" });
    // openai-node 6.x reads no model from a multipart body: images.edit needs the deployment option.
    const images = new AzureOpenAI({
      endpoint: gateway.endpoint,
      apiKey: key,
      apiVersion: API_VERSION,
      deployment: "gpt-image-1",
      maxRetries: 0,
    });
    await images.images.edit({
      model: "gpt-image-1",
      prompt: "a hat",
      image: await toFile(Buffer.from("png"), "cat.png"),
    });
    expect(gateway.requests.map((r) => [r.operationId, r.deployment, r.credential, r.client, r.status])).to.deep.equal([
      ["ChatCompletions_Create", "gpt-4o-mini", "api-key", "AzureOpenAI/JS", 200],
      ["ChatCompletions_Create", "gpt-4o-mini", "api-key", "AzureOpenAI/JS", 200],
      ["Embeddings_Create", "embeddings", "api-key", "AzureOpenAI/JS", 200],
      ["Speech_Create", "tts", "api-key", "AzureOpenAI/JS", 200],
      ["Transcriptions_Create", "whisper", "api-key", "AzureOpenAI/JS", 200],
      ["ImageGenerations_Create", "gpt-image-1", "api-key", "AzureOpenAI/JS", 200],
      ["ImageEdits_Create", "gpt-image-1", "api-key", "AzureOpenAI/JS", 200],
    ]);
    for (const r of gateway.requests) expect(r.url).to.contain(`api-version=${API_VERSION}`);
  });

  it("AzureOpenAI: the classic Responses routes, continued with previous_response_id", async () => {
    const client = new AzureOpenAI({ endpoint: gateway.endpoint, apiKey: key, apiVersion: API_VERSION, maxRetries: 0 });
    const first = await client.responses.create({ model: "gpt-4o-mini", input: "Name a colour." });
    const next = await client.responses.create({
      model: "gpt-4o-mini",
      input: "Another.",
      previous_response_id: first.id,
    });
    await client.responses.retrieve(next.id);
    await client.responses.inputItems.list(next.id);
    await client.responses.delete(next.id);
    expect(gateway.requests.map((r) => [r.method, r.operationId, r.status])).to.deep.equal([
      ["POST", "Responses_Create", 200],
      ["POST", "Responses_Create", 200],
      ["GET", "Responses_Get", 200],
      ["GET", "Responses_ListInputItems", 200],
      ["DELETE", "Responses_Delete", 200],
    ]);
  });

  it("matches only imported operations, with their required parameters (so a wrong path cannot pass)", async () => {
    const headers = { "api-key": key, "content-type": "application/json" };
    const body = JSON.stringify(chat);
    const noVersion = await fetch(`${gateway.url}/openai/deployments/gpt-4o-mini/chat/completions`, {
      method: "POST",
      headers,
      body,
    });
    expect(noVersion.status).to.equal(400);
    // AzureOpenAI's models.list calls the classic GET /openai/models, which this gateway does not import.
    const azure = new AzureOpenAI({ endpoint: gateway.endpoint, apiKey: key, apiVersion: API_VERSION, maxRetries: 0 });
    expect(await azure.models.list().catch((e: unknown) => e)).to.be.instanceOf(OpenAI.NotFoundError);
    expect(gateway.requests.map((r) => [r.template, r.status])).to.deep.equal([
      ["/deployments/{deployment-id}/chat/completions", 400],
      [undefined, 404],
    ]);
  });

  it("refuses a request without a key before any policy, as APIM does", async () => {
    const client = new OpenAI({ baseURL: `${gateway.endpoint}/openai/v1`, apiKey: "unused", maxRetries: 0 });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.AuthenticationError);
    expect(last(gateway)).to.include({ credential: "bearer", status: 401, operationId: "Models_ListV1" });
  });
});

describe("official OpenAI SDK against the gateway: Entra ID callers", function () {
  this.timeout(30_000);
  const tokenFor =
    (appId = APP, audience = AUDIENCE) =>
    async () =>
      fakeEntraToken({ tenantId: TENANT, audience, appId });

  it("accepts tokens from get_bearer_token_provider-style callers and keys alike, when both are on", async () => {
    const { gateway, key } = await gatewayWith({ entraId: { tenantId: TENANT, allowedClientIds: [APP] } });
    try {
      const v1 = new OpenAI({ baseURL: `${gateway.endpoint}/openai/v1`, apiKey: tokenFor(), maxRetries: 0 });
      await v1.chat.completions.create(chat);
      const azure = new AzureOpenAI({
        endpoint: gateway.endpoint,
        azureADTokenProvider: tokenFor(),
        apiVersion: API_VERSION,
        maxRetries: 0,
      });
      await azure.chat.completions.create(chat);
      await v1Client(gateway, key!).chat.completions.create(chat);
      expect(gateway.requests.map((r) => [r.client, r.credential, r.status])).to.deep.equal([
        ["OpenAI/JS", "bearer", 200],
        ["AzureOpenAI/JS", "bearer", 200],
        ["OpenAI/JS", "api-key", 200],
      ]);
      for (const [appId, audience] of [
        ["99999999-2222-3333-4444-555555555555", AUDIENCE],
        [APP, "https://management.azure.com"],
      ]) {
        const stranger = new OpenAI({
          baseURL: `${gateway.endpoint}/openai/v1`,
          apiKey: tokenFor(appId, audience),
          maxRetries: 0,
        });
        expect(await stranger.models.list().catch((e: unknown) => e)).to.be.instanceOf(OpenAI.AuthenticationError);
      }
    } finally {
      await gateway.close();
    }
  });

  it("takes only tokens when subscription keys are off", async () => {
    const { gateway, key } = await gatewayWith({ entraId: { tenantId: TENANT }, subscriptionKey: false });
    try {
      expect(key).to.equal(undefined);
      const err = await v1Client(gateway, "some-key")
        .models.list()
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(OpenAI.AuthenticationError);
      const v1 = new OpenAI({ baseURL: `${gateway.endpoint}/openai/v1`, apiKey: tokenFor(), maxRetries: 0 });
      expect((await v1.models.list()).data).to.have.length(5);
    } finally {
      await gateway.close();
    }
  });
});
