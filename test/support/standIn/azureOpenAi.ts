import type { ServerResponse } from "node:http";

/*
 * What an Azure OpenAI account answers, as far as the official SDKs read it: JSON bodies of the right
 * shape, Server-Sent Events for `stream: true` (chat chunks ending in [DONE] with an optional usage
 * chunk; Responses' named events ending in response.completed), base64 float32 embeddings when the
 * SDK asks for them. It keeps stored responses, as one account does.
 */

export interface StoredResponse {
  id: string;
  object: "response";
  created_at: number;
  status: string;
  model: string;
  previous_response_id: string | null;
  output: unknown[];
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  input: unknown;
}

type Json = Record<string, unknown>;

const USAGE = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "x-ms-region": "Sweden Central", ...headers });
  res.end(JSON.stringify(body));
}

function sse(res: ServerResponse, events: { event?: string; data: unknown }[], done: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream", "x-ms-region": "Sweden Central" });
  for (const { event, data } of events) {
    res.write(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
  }
  if (done) res.write("data: [DONE]\n\n");
  res.end();
}

export function error(res: ServerResponse, status: number, code: string, message: string, param?: string): void {
  send(res, status, { error: { code, message, ...(param ? { param } : {}), type: "invalid_request_error" } });
}

export class FakeAccount {
  private readonly responses = new Map<string, StoredResponse>();
  private next = 1;

  chat(res: ServerResponse, deployment: string, body: Json): void {
    const words = ["Hello", " from", " the gateway"];
    if (body.stream === true) {
      const chunk = (delta: Json, finish: string | null): Json => ({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1,
        model: deployment,
        choices: [{ index: 0, delta, finish_reason: finish }],
        usage: null,
      });
      const events = [
        ...words.map((w, i) => ({ data: chunk(i === 0 ? { role: "assistant", content: w } : { content: w }, null) })),
        { data: chunk({}, "stop") },
      ];
      if ((body.stream_options as Json | undefined)?.include_usage === true) {
        events.push({ data: { ...chunk({}, null), choices: [], usage: USAGE } });
      }
      sse(res, events, true);
      return;
    }
    send(res, 200, {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: deployment,
      choices: [{ index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: "stop" }],
      usage: USAGE,
    });
  }

  completion(res: ServerResponse, deployment: string): void {
    send(res, 200, {
      id: "cmpl-1",
      object: "text_completion",
      created: 1,
      model: deployment,
      choices: [{ index: 0, text: "Hello", finish_reason: "stop", logprobs: null }],
      usage: USAGE,
    });
  }

  embeddings(res: ServerResponse, deployment: string, body: Json): void {
    const vector = [0.25, -0.5, 1];
    const embedding =
      body.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
    send(res, 200, {
      object: "list",
      model: deployment,
      data: [{ object: "embedding", index: 0, embedding }],
      usage: { prompt_tokens: 1, total_tokens: 1 },
    });
  }

  image(res: ServerResponse): void {
    send(res, 200, { created: 1, data: [{ b64_json: Buffer.from("png").toString("base64") }] });
  }

  speech(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "audio/mpeg" });
    res.end(Buffer.from([0xff, 0xf3, 0x44, 0xc4]));
  }

  transcription(res: ServerResponse): void {
    send(res, 200, { text: "Hello" });
  }

  createResponse(res: ServerResponse, deployment: string, body: Json): void {
    const previous = typeof body.previous_response_id === "string" ? body.previous_response_id : null;
    if (previous && !this.responses.has(previous)) {
      // What OpenAI answers for a continuation of a response this account does not store.
      error(
        res,
        400,
        "previous_response_not_found",
        `Previous response with id '${previous}' not found.`,
        "previous_response_id",
      );
      return;
    }
    const id = `resp_${String(this.next++).padStart(4, "0")}`;
    const text = previous ? "Another colour: green." : "Blue.";
    const response: StoredResponse = {
      id,
      object: "response",
      created_at: 1,
      status: "completed",
      model: deployment,
      previous_response_id: previous,
      output: [
        {
          type: "message",
          id: `msg_${id}`,
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text, annotations: [] }],
        },
      ],
      usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 },
      input: body.input,
    };
    if (body.store !== false) this.responses.set(id, response);
    if (body.stream === true) {
      const inProgress = { ...response, status: "in_progress", output: [], usage: null };
      sse(
        res,
        [
          { event: "response.created", data: { type: "response.created", sequence_number: 0, response: inProgress } },
          {
            event: "response.output_text.delta",
            data: {
              type: "response.output_text.delta",
              sequence_number: 1,
              item_id: `msg_${id}`,
              output_index: 0,
              content_index: 0,
              delta: text,
            },
          },
          { event: "response.completed", data: { type: "response.completed", sequence_number: 2, response } },
        ],
        false,
      );
      return;
    }
    send(res, 200, response);
  }

  /** GET, DELETE, input_items and cancel on a stored response; 404 for an id this account does not store. */
  onResponse(res: ServerResponse, method: string, id: string, action: "" | "input_items" | "cancel"): void {
    const stored = this.responses.get(id);
    if (!stored) {
      error(res, 404, "not_found", `Response with id '${id}' not found.`);
      return;
    }
    if (action === "input_items") {
      const item = {
        type: "message",
        id: `msg_in_${id}`,
        role: "user",
        content: [{ type: "input_text", text: String(stored.input) }],
      };
      send(res, 200, { object: "list", data: [item], first_id: item.id, last_id: item.id, has_more: false });
    } else if (action === "cancel") {
      send(res, 200, { ...stored, status: "cancelled" });
    } else if (method === "DELETE") {
      this.responses.delete(id);
      send(res, 200, { id, object: "response.deleted", deleted: true });
    } else {
      send(res, 200, stored);
    }
  }
}
