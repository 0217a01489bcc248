/*
 * What an Azure OpenAI deployment does with a call: admit it or answer 429 with a Retry-After.
 * Standard deployments keep a sliding request window and a sliding token window; provisioned (PTU)
 * deployments keep a leaky bucket of input-token equivalents.
 */

export type Admission = { admitted: true; charged: number } | { admitted: false; retryAfterMs: number };

export interface Limiter {
  /** Decide on a call at `now` that is estimated to cost `promptTokens + maxTokens`. */
  admit(now: number, promptTokens: number, maxTokens: number): Admission;
  /** The call admitted with `charged` finished at `now` having generated `completionTokens`; returns the final charge. */
  complete(now: number, charged: number, maxTokens: number, completionTokens: number): number;
}

/** A FIFO of (time, amount) that forgets entries older than a window. */
class Window {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  total = 0;

  constructor(private readonly lengthMs: number) {}

  evict(now: number): void {
    while (this.head < this.times.length && this.times[this.head] <= now - this.lengthMs) {
      this.total -= this.amounts[this.head];
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.head = 0;
    }
  }

  get count(): number {
    return this.times.length - this.head;
  }

  add(now: number, amount: number): void {
    this.times.push(now);
    this.amounts.push(amount);
    this.total += amount;
  }

  /** Milliseconds from `now` until the total drops to `target` or below. */
  waitUntilAtMost(now: number, target: number): number {
    let total = this.total;
    for (let i = this.head; i < this.times.length; i++) {
      if (total <= target) {
        return Math.max(1, this.times[i] + this.lengthMs - now);
      }
      total -= this.amounts[i];
    }
    const last = this.times[this.times.length - 1] ?? now;
    return Math.max(1, last + this.lengthMs - now);
  }
}

/** Standard (pay-as-you-go) deployment: TPM quota and the model's RPM, each over a sliding window. */
export class StandardLimiter implements Limiter {
  private readonly requests: Window;
  private readonly tokens: Window;
  private readonly requestBudget: number;

  constructor(
    private readonly tokensPerMinute: number,
    requestsPerMinute: number,
    rpmWindowSeconds: number,
    private readonly tpmWindowSeconds: number,
  ) {
    this.requests = new Window(rpmWindowSeconds * 1000);
    this.tokens = new Window(tpmWindowSeconds * 1000);
    // The RPM limit applies per window: 600 RPM allows 100 calls per 10 s. At least one call fits.
    this.requestBudget = Math.max(1, Math.ceil((requestsPerMinute * rpmWindowSeconds) / 60));
  }

  admit(now: number, promptTokens: number, maxTokens: number): Admission {
    this.requests.evict(now);
    this.tokens.evict(now);
    const cost = promptTokens + maxTokens;
    const budget = (this.tokensPerMinute * this.tpmWindowSeconds) / 60;
    if (this.requests.count >= this.requestBudget) {
      return { admitted: false, retryAfterMs: this.requests.waitUntilAtMost(now, this.requestBudget - 1) };
    }
    if (this.tokens.total + cost > budget) {
      const retryAfterMs =
        cost > budget ? this.tpmWindowSeconds * 1000 : this.tokens.waitUntilAtMost(now, budget - cost);
      return { admitted: false, retryAfterMs };
    }
    this.requests.add(now, 1);
    this.tokens.add(now, cost);
    return { admitted: true, charged: cost };
  }

  complete(_now: number, charged: number): number {
    // Standard quota charges the estimate at admission and does not refund.
    return charged;
  }
}

/** Provisioned deployment: a bucket of input-token equivalents that drains continuously. */
export class ProvisionedLimiter implements Limiter {
  private utilization = 0;
  private last = 0;
  private readonly perMs: number;
  private readonly depth: number;

  constructor(
    inputTokensPerMinute: number,
    bucketMinutes: number,
    private readonly outputTokenWeight: number,
  ) {
    this.perMs = inputTokensPerMinute / 60_000;
    this.depth = inputTokensPerMinute * bucketMinutes;
  }

  private drain(now: number): void {
    this.utilization = Math.max(0, this.utilization - (now - this.last) * this.perMs);
    this.last = now;
  }

  admit(now: number, promptTokens: number, maxTokens: number): Admission {
    this.drain(now);
    if (this.utilization >= this.depth) {
      return {
        admitted: false,
        retryAfterMs: Math.max(1, Math.ceil((this.utilization - this.depth) / this.perMs) + 1),
      };
    }
    const estimate = promptTokens + this.outputTokenWeight * maxTokens;
    this.utilization += estimate;
    return { admitted: true, charged: estimate };
  }

  complete(now: number, charged: number, maxTokens: number, completionTokens: number): number {
    this.drain(now);
    const correction = this.outputTokenWeight * (completionTokens - maxTokens);
    this.utilization = Math.max(0, this.utilization + correction);
    return charged + correction;
  }
}

/** What the gateway's token limit answers: let the call through, or 429 (rate) / 403 (quota) with a wait. */
export type TeamVerdict = { admitted: true } | { admitted: false; status: 429 | 403; retryAfterMs: number };

/**
 * A team's budget at the gateway (azure-openai-token-limit in the team's policy): tokens over a
 * sliding minute, and optionally a quota per fixed period from the start of the run. Prompt tokens are
 * counted when a call is let through (the policy estimates them), completion tokens when it succeeds.
 */
export class TeamBudget {
  private readonly minute = new Window(60_000);
  private quotaUsed = 0;
  private periodStart = 0;

  constructor(
    private readonly tokensPerMinute: number | undefined,
    private readonly quota?: { tokens: number; periodMs: number },
  ) {}

  admit(now: number, promptTokens: number): TeamVerdict {
    if (this.quota) {
      while (now >= this.periodStart + this.quota.periodMs) {
        this.periodStart += this.quota.periodMs;
        this.quotaUsed = 0;
      }
      if (this.quotaUsed + promptTokens > this.quota.tokens) {
        return { admitted: false, status: 403, retryAfterMs: this.periodStart + this.quota.periodMs - now };
      }
    }
    if (this.tokensPerMinute !== undefined) {
      this.minute.evict(now);
      if (this.minute.total + promptTokens > this.tokensPerMinute) {
        return {
          admitted: false,
          status: 429,
          retryAfterMs: this.minute.waitUntilAtMost(now, this.tokensPerMinute - promptTokens),
        };
      }
    }
    this.consume(now, promptTokens);
    return { admitted: true };
  }

  consume(now: number, tokens: number): void {
    this.minute.add(now, tokens);
    this.quotaUsed += tokens;
  }
}
