import * as path from "node:path";
import { expect } from "chai";
import { runPlan } from "../offline/commands/plan";
import type { PlanResult } from "../offline/plan/plan";
import { child, findAll, parseXml } from "../offline/plan/xml";
import { input, ofType, TYPES } from "./helpers";
import { runProgram } from "../offline/runtime/program";
import type { ProgramRun } from "../offline/runtime/recorder";
import { readStackFileAt } from "../offline/runtime/stackFile";

/*
 * An estate where each region hosts its own model set: every deployment gets its own breakers and
 * pool, and no pool can send a request to an account that does not host its deployment.
 */

const STACK = path.join(__dirname, "fixtures", "Pulumi.heterogeneous.yaml");

describe("a heterogeneous estate (A: chat + embeddings, B: chat, C: embeddings + reasoning)", () => {
  let run: ProgramRun;
  let planned: PlanResult;
  before(async () => {
    run = await runProgram({ config: readStackFileAt(STACK).config, stack: "dev" });
    planned = await runPlan({ stack: "heterogeneous", stackFile: STACK });
  });

  const accountOf = (url: string) =>
    ofType(run.resources, TYPES.account).find((a) => url.startsWith(`https://${input(a, "accountName")}.`))!;
  const deploymentsOn = (account: ReturnType<typeof accountOf>) =>
    ofType(run.resources, TYPES.deployment)
      .filter((d) => input(d, "accountName") === input(account, "accountName"))
      .map((d) => input(d, "deploymentName"));

  it("creates on each account exactly the deployments it hosts", () => {
    const accounts = ofType(run.resources, TYPES.account);
    expect(accounts.map((a) => [input(a, "location"), deploymentsOn(a)])).to.deep.equal([
      ["swedencentral", ["chat", "embeddings"]],
      ["francecentral", ["chat"]],
      ["eastus2", ["embeddings", "reasoning"]],
    ]);
  });

  it("has exactly one breaker backend per (account, hosted deployment) and one pool per deployment", () => {
    const backends = ofType(run.resources, TYPES.backend);
    const singles = backends.filter((b) => input(b, "type") === "Single").map((b) => String(input(b, "backendId")));
    expect(singles.sort()).to.deep.equal([
      // One per account, for stored responses; no breaker and in no pool.
      "account-eastus2",
      "account-francecentral",
      "account-swedencentral",
      "openai-eastus2-embeddings",
      "openai-eastus2-reasoning",
      "openai-francecentral-chat",
      "openai-swedencentral-chat",
      "openai-swedencentral-embeddings",
    ]);
    const members = (poolId: string) => {
      const pool = backends.find((b) => input(b, "backendId") === poolId)!;
      return (input(pool, "pool", "services") as { id: string; priority: number }[]).map((s) => [
        input(
          backends.find((b) => b.id === s.id)!,
          "backendId",
        ),
        s.priority,
      ]);
    };
    expect(members("pool-chat")).to.deep.equal([
      ["openai-swedencentral-chat", 1],
      ["openai-francecentral-chat", 1],
    ]);
    expect(members("pool-embeddings")).to.deep.equal([
      ["openai-swedencentral-embeddings", 1],
      ["openai-eastus2-embeddings", 2],
    ]);
    expect(members("pool-reasoning")).to.deep.equal([["openai-eastus2-reasoning", 2]]);
  });

  it("never puts a backend in a pool whose deployment its account does not host", () => {
    const backends = ofType(run.resources, TYPES.backend);
    for (const pool of backends.filter((b) => input(b, "type") === "Pool")) {
      const deployment = String(input(pool, "backendId")).replace(/^pool-/, "");
      for (const service of input(pool, "pool", "services") as { id: string }[]) {
        const member = backends.find((b) => b.id === service.id)!;
        expect(deploymentsOn(accountOf(String(input(member, "url")))), member.name).to.include(deployment);
      }
    }
  });

  it("routes each deployment to its pool in the deployed policy, and answers any other with a 404 from the gateway", () => {
    const policy = parseXml(planned.topology.policyXml!);
    const choose = findAll(child(policy, "inbound"), "choose").find((c) =>
      c.children.some((w) => w.attributes.condition?.includes('Variables["deployment"] == "chat"')),
    )!;
    expect(planned.topology.routes).to.deep.equal([
      { deployment: "chat", poolId: "pool-chat" },
      { deployment: "embeddings", poolId: "pool-embeddings" },
      { deployment: "reasoning", poolId: "pool-reasoning" },
    ]);
    const otherwise = child(choose, "otherwise");
    expect(child(child(otherwise, "return-response"), "set-status").attributes.code).to.equal("404");
    expect(findAll(otherwise, "set-backend-service")).to.deep.equal([]);
  });

  it("counts only the hosting accounts in each deployment's capacity, and N-1 per deployment", () => {
    expect(
      planned.plan.capacity.map((c) => [
        c.deployment,
        c.perInstance.map((s) => s.instance),
        c.tokensPerMinute,
        c.tokensPerMinuteNMinus1,
      ]),
    ).to.deep.equal([
      ["chat", ["swedencentral", "francecentral"], 200_000, 100_000],
      ["embeddings", ["swedencentral", "eastus2"], 400_000, 200_000],
      ["reasoning", ["eastus2"], 50_000, 0],
    ]);
  });

  it("warns that reasoning has a single host and lacks the priority-1 tier", () => {
    const verdicts = planned.plan.policyPack.map((v) => `${v.policy}: ${v.message}`);
    expect(verdicts).to.include(
      "pool-has-failover: Pool gateway-pool-reasoning has a single member: when that account fails or is throttled, its deployment has no failover.",
    );
    expect(verdicts).to.include(
      "pools-cover-priority-tiers: Pool gateway-pool-reasoning has no member at priority 1, which other pools use: its deployment lacks that tier.",
    );
    expect(verdicts).to.include(
      "pools-cover-priority-tiers: Pool gateway-pool-chat has no member at priority 2, which other pools use: its deployment lacks that tier.",
    );
  });
});
