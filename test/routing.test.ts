import { expect } from "chai";
import { backendEntityId, oversizedPools, routingTable } from "../components/gatewayRouting";

describe("the gateway's routing table", () => {
  const accounts = [
    { name: "a", location: "swedencentral", priority: 1, weight: 1, deployments: ["chat", "embeddings"] },
    { name: "b", location: "francecentral", priority: 1, weight: 1, deployments: ["chat"] },
    { name: "c", location: "eastus2", priority: 2, weight: 1, deployments: ["EMBEDDINGS", "reasoning"] },
  ];

  it("has a backend per (account, hosted deployment) and a pool per deployment over exactly its hosts", () => {
    const table = routingTable(accounts);
    expect(table.deployments).to.deep.equal(["chat", "embeddings", "reasoning"]);
    expect(table.backends.map((b) => [b.backendId, b.account, b.deployment])).to.deep.equal([
      ["openai-a-chat", "a", "chat"],
      ["openai-a-embeddings", "a", "embeddings"],
      ["openai-b-chat", "b", "chat"],
      // Names are case-insensitive: c's EMBEDDINGS joins the embeddings pool under its first spelling.
      ["openai-c-embeddings", "c", "embeddings"],
      ["openai-c-reasoning", "c", "reasoning"],
    ]);
    expect(table.pools.map((p) => [p.poolId, p.members.map((m) => m.backendId)])).to.deep.equal([
      ["pool-chat", ["openai-a-chat", "openai-b-chat"]],
      ["pool-embeddings", ["openai-a-embeddings", "openai-c-embeddings"]],
      ["pool-reasoning", ["openai-c-reasoning"]],
    ]);
    expect(oversizedPools(table)).to.deep.equal([]);
  });

  it("keeps ids within APIM's 80 characters, stable and distinct", () => {
    const long = backendEntityId("openai", "a".repeat(60), "deployment-with-a-long-name-" + "x".repeat(30));
    expect(long).to.have.length(80);
    expect(long).to.equal(backendEntityId("openai", "a".repeat(60), "deployment-with-a-long-name-" + "x".repeat(30)));
    expect(long).to.not.equal(
      backendEntityId("openai", "a".repeat(60), "deployment-with-a-long-name-" + "y".repeat(30)),
    );
    // The readable start (cut at 71 characters), then a hash of the whole.
    expect(long).to.match(/^openai-a{60}-dep-[0-9a-f]{8}$/);
    expect(backendEntityId("openai", "Sweden", "GPT-4o")).to.equal("openai-sweden-gpt-4o");
  });

  it("gives colliding ids a suffix each (account a-b with x, account a with b-x)", () => {
    const table = routingTable([
      { name: "a-b", location: "swedencentral", priority: 1, weight: 1, deployments: ["x"] },
      { name: "a", location: "swedencentral", priority: 1, weight: 1, deployments: ["b-x"] },
    ]);
    const [first, second] = table.backends.map((b) => b.backendId);
    expect(first).to.not.equal(second);
    expect(first).to.match(/^openai-a-b-x-[0-9a-f]{8}$/);
  });

  it("keeps a gateway region's own pool apart from a deployment named like it (chat in eastus, chat-eastus)", () => {
    const accounts = [
      { name: "se", location: "swedencentral", priority: 1, weight: 1, deployments: ["chat", "chat-eastus"] },
      { name: "us", location: "eastus", priority: 1, weight: 1, deployments: ["chat", "chat-eastus"] },
    ];
    const table = routingTable(accounts, ["swedencentral", "eastus"]);
    const ids = table.pools.map((p) => p.poolId);
    expect(ids).to.have.length(4);
    expect(new Set(ids).size).to.equal(4);
    // Each region's routes name pools of the right deployment, whatever their ids became.
    for (const region of table.regions) {
      for (const pool of region.pools) expect(table.pools).to.include(pool);
      expect(region.pools.map((p) => p.deployment)).to.deep.equal(["chat", "chat-eastus"]);
    }
    // The primary pools keep the ids a single-region gateway gives them (adding a region replaces nothing).
    expect(ids.slice(0, 2)).to.deep.equal(routingTable(accounts).pools.map((p) => p.poolId));
    expect(ids.slice(0, 2)).to.deep.equal(["pool-chat", "pool-chat-eastus"]);
    expect(ids.filter((id) => /^pool-chat-eastus-[0-9a-f]{8}$/.test(id))).to.have.length(1);
  });

  it("reports a pool above APIM's member limit", () => {
    const many = Array.from({ length: 31 }, (_, i) => ({
      name: `n${i}`,
      location: "eastus",
      priority: 1,
      weight: 1,
      deployments: ["chat"],
    }));
    expect(oversizedPools(routingTable(many)).map((p) => p.poolId)).to.deep.equal(["pool-chat"]);
  });
});
