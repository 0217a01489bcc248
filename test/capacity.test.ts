import { expect } from "chai";
import {
  capacityByDeployment,
  deploymentThroughput,
  inputTpmPerPtu,
  rpmPerThousandTpm,
  type CapacityInstance,
} from "../common/capacity";

const chat = (capacity: number, sku: CapacityInstance["deployments"][number]["sku"] = "Standard") => ({
  name: "chat",
  model: "gpt-4o-mini",
  sku,
  capacity,
});

describe("capacity arithmetic", () => {
  it("converts Standard capacity to tokens and requests per minute with the model's ratio", () => {
    expect(deploymentThroughput("gpt-4o-mini", "Standard", 10)).to.deep.equal({
      tokensPerMinute: 10_000,
      requestsPerMinute: 60,
    });
    expect(deploymentThroughput("gpt-4.1", "GlobalStandard", 100)).to.deep.equal({
      tokensPerMinute: 100_000,
      requestsPerMinute: 100,
    });
    expect(deploymentThroughput("o1-mini", "GlobalStandard", 100)).to.deep.equal({
      tokensPerMinute: 100_000,
      requestsPerMinute: 10,
    });
    expect(deploymentThroughput("o1", "GlobalStandard", 60)).to.deep.equal({
      tokensPerMinute: 60_000,
      requestsPerMinute: 10,
    });
  });

  it("converts PTUs to input tokens per minute and gives no RPM ratio", () => {
    expect(deploymentThroughput("gpt-4o", "GlobalProvisionedManaged", 15)).to.deep.equal({
      tokensPerMinute: 37_500,
      requestsPerMinute: undefined,
    });
    expect(deploymentThroughput("gpt-4o-mini", "ProvisionedManaged", 25).tokensPerMinute).to.equal(925_000);
  });

  it("says 'unknown' rather than guessing for models it has no figures for", () => {
    expect(rpmPerThousandTpm("some-future-model")).to.equal(undefined);
    expect(inputTpmPerPtu("text-embedding-3-small")).to.equal(undefined);
    expect(deploymentThroughput("some-future-model", "Standard", 5)).to.deep.equal({
      tokensPerMinute: 5_000,
      requestsPerMinute: undefined,
    });
  });

  it("sums tokens per minute over instances and subtracts the largest for N-1", () => {
    const [chatCapacity] = capacityByDeployment([
      { name: "a", priority: 1, deployments: [chat(30)] },
      { name: "b", priority: 1, deployments: [chat(50)] },
      { name: "c", priority: 2, deployments: [chat(20)] },
    ]);
    expect(chatCapacity.tokensPerMinute).to.equal(100_000);
    expect(chatCapacity.requestsPerMinute).to.equal(600);
    expect(chatCapacity.largestInstance).to.equal("b");
    expect(chatCapacity.tokensPerMinuteNMinus1).to.equal(50_000);
    expect(chatCapacity.requestsPerMinuteNMinus1).to.equal(300);
    expect(chatCapacity.perInstance.map((s) => [s.instance, s.priority, s.tokensPerMinute])).to.deep.equal([
      ["a", 1, 30_000],
      ["b", 1, 50_000],
      ["c", 2, 20_000],
    ]);
  });

  it("leaves nothing for N-1 with a single instance", () => {
    const [only] = capacityByDeployment([{ name: "a", priority: 1, deployments: [chat(10)] }]);
    expect(only.tokensPerMinute).to.equal(10_000);
    expect(only.tokensPerMinuteNMinus1).to.equal(0);
  });

  it("mixes PTU and Standard instances: tokens add up, requests are unknown because PTUs have no ratio", () => {
    const [mixed] = capacityByDeployment([
      { name: "ptu", priority: 1, deployments: [chat(25, "ProvisionedManaged")] },
      { name: "paygo", priority: 2, deployments: [chat(100)] },
    ]);
    expect(mixed.tokensPerMinute).to.equal(925_000 + 100_000);
    expect(mixed.largestInstance).to.equal("ptu");
    expect(mixed.tokensPerMinuteNMinus1).to.equal(100_000);
    expect(mixed.requestsPerMinute).to.equal(undefined);
    expect(mixed.requestsPerMinuteNMinus1).to.equal(600);
  });

  it("reports each deployment name separately, in config order", () => {
    const result = capacityByDeployment([
      {
        name: "a",
        priority: 1,
        deployments: [chat(10), { name: "emb", model: "text-embedding-3-small", sku: "Standard", capacity: 100 }],
      },
    ]);
    expect(result.map((r) => [r.deployment, r.tokensPerMinute])).to.deep.equal([
      ["chat", 10_000],
      ["emb", 100_000],
    ]);
  });
});
