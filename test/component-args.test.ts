import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ConfigError } from "../common/errors";
import { ApimGateway } from "../components/apimGateway";
import type { ApimGatewayArgs } from "../components/apimGatewayArgs";
import { OpenAiScaleSet } from "../components/openAiScaleSet";
import type { OpenAiScaleSetArgs } from "../components/openAiScaleSetArgs";
import { runMocked } from "../offline/runtime/recorder";
import { attempt, existingBackend, input, ofType, TYPES } from "./helpers";

/*
 * Component args are exactly as strict as stack config: whatever JavaScript, YAML or Python hands a
 * constructor, a mistake is a ConfigError naming the key before anything is registered, never a
 * TypeError or a silently ignored value. The cases below came from fuzzing the args.
 */

const SCALE_SET: OpenAiScaleSetArgs = {
  resourceGroupName: "rg",
  instances: [{ location: "swedencentral" }],
  deployments: [{ name: "chat", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard" }],
};
const GATEWAY: ApimGatewayArgs = {
  resourceGroupName: "rg",
  location: "swedencentral",
  sku: { name: "BasicV2" },
  publisherEmail: "platform@contoso.com",
  publisherName: "Contoso",
  backends: [existingBackend("sweden", "swedencentral")],
};

/** Constructs a component with args as an untyped caller (JavaScript, YAML, Python) might pass them. */
const scaleSet = (args: unknown) => () => new OpenAiScaleSet("chat", args as OpenAiScaleSetArgs);
const gateway = (args: unknown) => () => new ApimGateway("gw", args as ApimGatewayArgs);

async function problems(construct: () => unknown): Promise<{ key: string; given: string; allowed: string }[]> {
  const { error, registered } = await attempt(construct);
  expect(registered, "nothing may be registered for bad args").to.deep.equal([]);
  expect(error, "a ConfigError, not a crash").to.be.instanceOf(ConfigError);
  expect(pulumi.RunError.isInstance(error)).to.equal(true);
  return (error as ConfigError).problems;
}

describe("component args are as strict as stack config", () => {
  it("refuses an unknown top-level key, with a did-you-mean hint (ApimGateway)", async () => {
    const found = await problems(gateway({ ...GATEWAY, circuitBreakr: { enabled: false } }));
    expect(found).to.have.length(1);
    expect(found[0]).to.include({ key: "args", given: 'unknown key "circuitBreakr"' });
    expect(found[0].allowed).to.contain('did you mean "circuitBreaker" instead of "circuitBreakr"?');
  });

  it("refuses an unknown top-level key, with a did-you-mean hint (OpenAiScaleSet)", async () => {
    const found = await problems(scaleSet({ ...SCALE_SET, disableLocalAuht: false }));
    expect(found[0].allowed).to.contain('did you mean "disableLocalAuth" instead of "disableLocalAuht"?');
  });

  const cases: [string, () => unknown, string, string?][] = [
    ["no args at all", scaleSet(undefined), "args"],
    ["no args at all (gateway)", gateway(null), "args"],
    ["additionalRegions as a number", scaleSet({ ...SCALE_SET, additionalRegions: 3 }), "args.additionalRegions"],
    ["additionalRegions as a string", gateway({ ...GATEWAY, additionalRegions: "eastus" }), "args.additionalRegions"],
    [
      "an unknown gateway location",
      gateway({ ...GATEWAY, location: "westeurop" }),
      "args.location",
      'did you mean "westeurope"',
    ],
    ["a tag value that is not a string", gateway({ ...GATEWAY, tags: { owner: 3 } }), "args.tags.owner"],
    [
      "a tag name with a forbidden character",
      scaleSet({ ...SCALE_SET, tags: { "team/owner": "x" } }),
      "args.tags.team/owner",
      "without the characters < > % & \\ ? /",
    ],
    ["a __proto__ tag", scaleSet({ ...SCALE_SET, tags: JSON.parse('{"__proto__": "x"}') }), "args.tags.__proto__"],
    [
      "a __proto__ deployment override",
      scaleSet({
        ...SCALE_SET,
        instances: [{ location: "swedencentral", deployments: JSON.parse('{"__proto__": {"capacity": -1}}') }],
      }),
      "args.instances[0].deployments.__proto__",
    ],
    ["a resource group that is a number", scaleSet({ ...SCALE_SET, resourceGroupName: 42 }), "args.resourceGroupName"],
    ["a backend list that is an object", gateway({ ...GATEWAY, backends: { a: 1 } }), "args.backends"],
    [
      "a retry max-interval without a delta",
      gateway({ ...GATEWAY, retry: { maxIntervalSeconds: 10 } }),
      "args.retry.maxIntervalSeconds",
    ],
    [
      "an API path that does not end in openai",
      gateway({ ...GATEWAY, apiPath: "ai" }),
      "args.apiPath",
      "ending in the segment openai",
    ],
    [
      "a backend timeout above 240 s",
      gateway({ ...GATEWAY, backendTimeoutSeconds: 300 }),
      "args.backendTimeoutSeconds",
    ],
  ];
  for (const [what, construct, key, allowed] of cases) {
    it(`names ${key} for ${what}`, async () => {
      const found = await problems(construct);
      const problem = found.find((p) => p.key === key);
      expect(problem, JSON.stringify(found)).to.not.equal(undefined);
      if (allowed) expect(problem!.allowed).to.contain(allowed);
    });
  }

  it("accepts Outputs where args are pulumi.Input (checked by Azure instead)", async () => {
    const run = await runMocked({ config: {} }, () => {
      new OpenAiScaleSet("chat", {
        ...SCALE_SET,
        resourceGroupName: pulumi.output("rg-out"),
        tags: pulumi.output({ a: "b" }),
      });
      return {};
    });
    expect(input(ofType(run.resources, TYPES.account)[0], "resourceGroupName")).to.equal("rg-out");
  });
});
