import { expect } from "chai";
import { compileExpressions, toolchain, type Toolchain } from "../../offline/expressions/compile";
import { policyExpressions } from "../../offline/expressions/extract";
import { policyVariants } from "../../offline/expressions/variants";

/*
 * APIM compiles a policy's C# expressions when the policy is saved: one typo fails `pulumi up`. Here
 * they are compiled with Mono's mcs against a typed stand-in for APIM's context. Machines without mcs
 * skip these tests (reported as pending); install mono-mcs and libnewtonsoft-json-cil-dev to run them.
 */
describe("policy expressions compile as C#", function () {
  this.timeout(120_000);
  let tools: Toolchain | string;
  before(function () {
    tools = toolchain();
    if (typeof tools === "string") this.skip();
  });

  for (const variant of policyVariants()) {
    it(`every expression of the policy with ${variant.name}`, () => {
      const expressions = policyExpressions(variant.xml);
      expect(expressions.length).to.be.greaterThan(0);
      expect(compileExpressions(expressions, tools as Toolchain)).to.deep.equal([]);
    });
  }

  it("reports a broken expression with where it is", () => {
    const broken = policyVariants()[0].xml.replace("ToLowerInvariant()", "ToLowerInvarant()");
    const errors = compileExpressions(policyExpressions(broken), tools as Toolchain);
    expect(errors[0].where).to.equal("/policies/inbound/set-variable[value]");
    expect(errors[0].message).to.contain("ToLowerInvarant");
  });
});
