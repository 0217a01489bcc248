import { expect } from "chai";
import { deterministicGuid, dnsLabel, uniqueName } from "../common/naming";

describe("naming", () => {
  it("makes DNS labels of lowercase letters, digits and single hyphens", () => {
    expect(dnsLabel("My_Gateway--Prod!", 63)).to.equal("my-gateway-prod");
    expect(dnsLabel("abc-def", 4)).to.equal("abc");
  });

  it("keeps the key and suffix whole and shortens the prefix to fit", () => {
    expect(uniqueName("openai", "swedencentral", "ab12cd", 64)).to.equal("openai-swedencentral-ab12cd");
    const long = uniqueName("a-very-long-component-name-indeed", "australiasoutheast", "ab12cd", 32);
    expect(long).to.have.length.at.most(32);
    expect(long).to.match(/-australiasoutheast-ab12cd$/);
    expect(long).to.match(/^a-very/);
  });

  it("derives the same GUID from the same parts, a different one from different parts", () => {
    const a = deterministicGuid("/scope/a", "principal", "role");
    expect(deterministicGuid("/scope/a", "principal", "role")).to.equal(a);
    expect(deterministicGuid("/scope/b", "principal", "role")).to.not.equal(a);
    expect(a).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
