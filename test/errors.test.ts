import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { z } from "zod";
import { closest, didYouMean } from "../common/didYouMean";
import { ConfigError, describeValue, toProblems } from "../common/errors";
import { safeRecord } from "../common/validation";

describe("config errors", () => {
  it("are RunErrors to Pulumi, so `pulumi up` prints them without a stack trace", () => {
    const error = new ConfigError("Invalid stack config", [{ key: "k", given: "1", allowed: "2" }]);
    expect(pulumi.RunError.isInstance(error)).to.equal(true);
    expect(error.message).to.equal("Invalid stack config: 1 problem\n  - k: got 1; allowed: 2");
  });

  it("describe any value without throwing, shortened", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).to.equal("[object Object]");
    expect(describeValue(undefined)).to.equal("nothing");
    expect(describeValue("x".repeat(200))).to.have.length(120);
  });

  it("say why a map key was refused, not zod's generic text", () => {
    const schema = z.record(
      z.string().refine((k) => !k.includes("/"), { error: "a name without /" }),
      z.string(),
    );
    const result = schema.safeParse({ "a/b": "x" });
    expect(toProblems(result.error!.issues, (first) => `tags.${first}`)).to.deep.equal([
      { key: "tags.a/b", given: 'the key "a/b"', allowed: "a name without /" },
    ]);
  });

  it("refuse a __proto__ key in a map instead of dropping it", () => {
    const schema = safeRecord(z.string(), "a map");
    const result = schema.safeParse(JSON.parse('{"__proto__": "x", "ok": "y"}'));
    expect(result.success).to.equal(false);
    expect(result.error!.issues.map((i) => [i.path, i.message])).to.deep.equal([
      [["__proto__"], "a name other than __proto__"],
    ]);
    expect(schema.parse({ ok: "y" })).to.deep.equal({ ok: "y" });
  });

  it("suggest the closest known name", () => {
    expect(closest("prority", ["priority", "weight"])).to.equal("priority");
    expect(closest("zzzzzzzz", ["priority"])).to.equal(undefined);
    expect(didYouMean("westeurop", ["westeurope", "northeurope"])).to.equal(' (did you mean "westeurope"?)');
  });
});
