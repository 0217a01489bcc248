import * as crypto from "node:crypto";
import { BACKEND_ID_FORBIDDEN, BACKEND_ID_MAX_LENGTH, MAX_POOL_MEMBERS } from "../common/apim";
import { distinctNames, sameName } from "../common/azureOpenAi";
import { areaOf } from "../common/regions";

/*
 * Which APIM backends the gateway creates for a set of accounts: one Single backend per (account,
 * hosted deployment), each with its own circuit breaker, and one Pool per deployment whose members are
 * exactly the accounts hosting it. A saturated deployment then trips only its own breaker: the other
 * deployments of the same account stay in their pools. Besides, one backend per account without a
 * breaker, for the calls only one account can answer (stored responses: docs/clients.md). Pure, so the
 * plan and tests can use it too.
 */

/** An account as the gateway sees it (the parsed `backends` arg). */
export interface AccountRoute {
  name: string;
  location: string;
  priority: number;
  weight: number;
  deployments: readonly string[];
  /** Gateway regions that count this account as near; default: those in the account's part of the world. */
  nearGateways?: readonly string[];
}

/** One Single backend: one deployment on one account. */
export interface DeploymentBackend {
  /** The account's name (the `backends[].name` arg). */
  account: string;
  location: string;
  /** The deployment's name as first spelt in the args. */
  deployment: string;
  /** APIM backend id. */
  backendId: string;
  priority: number;
  weight: number;
}

/** One account as a whole, for the Responses calls that must reach the account storing a response. */
export interface AccountBackend {
  /** The account's name (the `backends[].name` arg). */
  account: string;
  location: string;
  /** APIM backend id. */
  backendId: string;
  priority: number;
  weight: number;
}

/** The pool that serves one deployment. */
export interface DeploymentPool {
  deployment: string;
  /** APIM backend id of the pool. */
  poolId: string;
  members: DeploymentBackend[];
}

/** What one gateway region sends each deployment to. */
export interface RegionRouting {
  region: string;
  /** Per deployment, the pool this region uses; its members carry the region's priorities. */
  pools: DeploymentPool[];
}

export interface RoutingTable {
  /** Every deployment some account hosts, in the order they first appear. */
  deployments: string[];
  backends: DeploymentBackend[];
  /** Every pool to create: one per deployment, plus one per (deployment, gateway region) whose order differs. */
  pools: DeploymentPool[];
  /** One backend per account, in argument order. */
  accounts: AccountBackend[];
  /** With several gateway regions, each one's pools (the primary first); empty with one region. */
  regions: RegionRouting[];
}

/**
 * An APIM backend id from readable parts: lowercase (APIM ids are case-insensitive), characters ARM
 * refuses replaced, and at most 80 characters; a longer one keeps its start and ends in a hash of the
 * whole, so it stays stable and distinct.
 */
export function backendEntityId(...parts: string[]): string {
  const readable = parts
    .join("-")
    .toLowerCase()
    .replace(new RegExp(BACKEND_ID_FORBIDDEN.source, "g"), "-")
    .replace(/\s+/g, "-");
  if (readable.length <= BACKEND_ID_MAX_LENGTH) {
    return readable;
  }
  const hash = crypto.createHash("sha1").update(parts.join("\u0000")).digest("hex").slice(0, 8);
  return `${readable.slice(0, BACKEND_ID_MAX_LENGTH - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** `id` with a hash of the parts it was made from: distinct from any other entity's. */
function hashedId(id: string, parts: readonly string[]): string {
  const hash = crypto.createHash("sha1").update(parts.join("\u0000")).digest("hex").slice(0, 8);
  return `${id.slice(0, BACKEND_ID_MAX_LENGTH - 9)}-${hash}`;
}

/** Ids that came out equal for different parts get a hash suffix each, so every entity keeps its own. */
function distinct<T extends { id: string; parts: string[] }>(items: T[]): T[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.id, (counts.get(item.id) ?? 0) + 1);
  return items.map((item) => ((counts.get(item.id) ?? 0) < 2 ? item : { ...item, id: hashedId(item.id, item.parts) }));
}

/** Does a gateway in `gatewayRegion` count this account as near? */
export function isNear(account: Pick<AccountRoute, "location" | "nearGateways">, gatewayRegion: string): boolean {
  if (account.nearGateways) return account.nearGateways.includes(gatewayRegion);
  const area = areaOf(account.location);
  return area !== undefined && area === areaOf(gatewayRegion);
}

/**
 * The priorities a gateway region gives a pool's members: near accounts before far ones, each group
 * in its configured priority order, renumbered 1, 2, 3... (only the order matters to a pool).
 */
export function regionalPriorities(
  members: readonly DeploymentBackend[],
  near: (account: string) => boolean,
): DeploymentBackend[] {
  const key = (m: DeploymentBackend) => `${near(m.account) ? 0 : 1}:${String(m.priority).padStart(3, "0")}`;
  const ranks = [...new Set(members.map(key))].sort();
  return members.map((m) => ({ ...m, priority: ranks.indexOf(key(m)) + 1 }));
}

export function routingTable(accounts: readonly AccountRoute[], gatewayRegions: readonly string[] = []): RoutingTable {
  const deployments = distinctNames(accounts.flatMap((account) => account.deployments));
  const singles = distinct(
    accounts.flatMap((account) =>
      account.deployments.map((name) => {
        const deployment = deployments.find((d) => sameName(d, name))!;
        return {
          parts: ["openai", account.name, deployment],
          id: backendEntityId("openai", account.name, deployment),
          account,
          deployment,
        };
      }),
    ),
  );
  const backends = singles.map(({ id, account, deployment }): DeploymentBackend => ({
    account: account.name,
    location: account.location,
    deployment,
    backendId: id,
    priority: account.priority,
    weight: account.weight,
  }));
  const poolIds = distinct(deployments.map((d) => ({ parts: ["pool", d], id: backendEntityId("pool", d), d })));
  const pools = poolIds.map(({ id, d }) => ({
    deployment: d,
    poolId: id,
    members: backends.filter((b) => b.deployment === d),
  }));
  const accountIds = distinct(
    accounts.map((account) => ({
      parts: ["account", account.name],
      id: backendEntityId("account", account.name),
      account,
    })),
  );
  const accountBackends = accountIds.map(({ id, account }): AccountBackend => ({
    account: account.name,
    location: account.location,
    backendId: id,
    priority: account.priority,
    weight: account.weight,
  }));
  const regions: RegionRouting[] = [];
  /** Regional pools and the parts their id is made from. */
  const poolParts = new Map<DeploymentPool, string[]>();
  if (gatewayRegions.length > 1) {
    const near = (region: string) => (name: string) =>
      isNear(
        accounts.find((a) => a.name === name)!,
        region,
      );
    // Every region ranks from the configured priorities, not from another region's ranks.
    const configured = new Map(pools.map((pool) => [pool, pool.members]));
    const ordered = (region: string, pool: DeploymentPool) => regionalPriorities(configured.get(pool)!, near(region));
    const primary = gatewayRegions[0];
    // The primary region keeps the pool ids of a single-region gateway, with its own order.
    for (const pool of pools) pool.members = ordered(primary, pool);
    regions.push({ region: primary, pools: [...pools] });
    for (const region of gatewayRegions.slice(1)) {
      regions.push({
        region,
        pools: pools.map((pool) => {
          const members = ordered(region, pool);
          const same = members.every((m, i) => m.priority === pool.members[i].priority);
          if (same) return pool;
          const regional = {
            deployment: pool.deployment,
            poolId: backendEntityId("pool", pool.deployment, region),
            members,
          };
          poolParts.set(regional, ["pool", pool.deployment, region]);
          return regional;
        }),
      });
    }
    for (const r of regions.slice(1)) for (const p of r.pools) if (!pools.includes(p)) pools.push(p);
    // A regional pool's id can equal another deployment's ("chat" in eastus, deployment "chat-eastus").
    // The regional one gives way: a primary pool keeps its id when regions are added, so the deployed
    // pool is updated, not replaced.
    const taken = new Map<string, number>();
    for (const pool of pools) taken.set(pool.poolId, (taken.get(pool.poolId) ?? 0) + 1);
    for (const pool of pools) {
      const parts = poolParts.get(pool);
      if (parts && (taken.get(pool.poolId) ?? 0) > 1) pool.poolId = hashedId(pool.poolId, parts);
    }
  }
  return { deployments, backends, pools, accounts: accountBackends, regions };
}

/** Pools over APIM's member limit (cannot happen with at most 30 accounts; checked so it stays so). */
export function oversizedPools(table: RoutingTable): DeploymentPool[] {
  return table.pools.filter((p) => p.members.length > MAX_POOL_MEMBERS);
}

/**
 * The account backends of the accounts that host a pool's deployment, in the pool's member order,
 * with the pool's priorities (a gateway region's own order).
 */
export function poolAccounts(table: RoutingTable, pool: DeploymentPool): AccountBackend[] {
  return pool.members.map((member) => ({
    ...table.accounts.find((a) => a.account === member.account)!,
    priority: member.priority,
    weight: member.weight,
  }));
}
