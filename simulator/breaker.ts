import type { BreakerRule } from "./model";
import type { ModelParameters } from "./parameters";

export type { BreakerRule };

/**
 * APIM's circuit breaker for one backend on one gateway unit (units do not share breakers). Closed
 * until the rule's threshold of failures within the interval, then open for the trip duration, or
 * for the backend's Retry-After when the rule accepts it. No half-open state is documented: when the
 * time is up, traffic resumes.
 */
export class Breaker {
  private calls: { at: number; failed: boolean }[] = [];
  private head = 0;
  private failures = 0;
  openUntil = 0;
  trips = 0;

  constructor(
    private readonly rule: BreakerRule | undefined,
    private readonly params: ModelParameters,
  ) {}

  isOpen(now: number): boolean {
    return now < this.openUntil;
  }

  countsAsFailure(status: number): boolean {
    return this.rule?.statusRanges.some((r) => status >= r.min && status <= r.max) ?? false;
  }

  /** Records a backend answer; returns the time the breaker stays open until if this call tripped it. */
  record(now: number, status: number, retryAfterMs: number | undefined, timedOut: boolean): number | undefined {
    const rule = this.rule;
    if (!rule) {
      return undefined;
    }
    const failed = timedOut ? this.params.breakerCountsTimeouts : this.countsAsFailure(status);
    const keepFrom =
      this.params.breakerWindow === "sliding" ? now - rule.intervalMs + 1 : now - (now % rule.intervalMs);
    while (this.head < this.calls.length && this.calls[this.head].at < keepFrom) {
      if (this.calls[this.head].failed) this.failures--;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.calls.length) {
      this.calls = this.calls.slice(this.head);
      this.head = 0;
    }
    this.calls.push({ at: now, failed });
    if (failed) this.failures++;
    const inWindow = this.calls.length - this.head;
    const failures = this.failures;
    const tripped =
      failed &&
      (rule.failureCount !== undefined
        ? failures >= rule.failureCount
        : inWindow >= this.params.breakerMinimumCalls &&
          (failures * 100) / inWindow >= (rule.failurePercentage ?? 100));
    if (!tripped) {
      return undefined;
    }
    this.openUntil = now + this.tripDuration(retryAfterMs);
    this.trips++;
    if (this.params.breakerClearsOnTrip) {
      this.calls = [];
      this.head = 0;
      this.failures = 0;
    }
    return this.openUntil;
  }

  private tripDuration(retryAfterMs: number | undefined): number {
    const rule = this.rule!;
    if (!rule.acceptRetryAfter || retryAfterMs === undefined) {
      return rule.tripDurationMs;
    }
    let honoured = this.params.breakerUsesRetryAfterMs ? retryAfterMs : Math.ceil(retryAfterMs / 1000) * 1000;
    if (this.params.retryAfterCapSeconds !== null) {
      honoured = Math.min(honoured, this.params.retryAfterCapSeconds * 1000);
    }
    return this.params.retryAfterMode === "max" ? Math.max(honoured, rule.tripDurationMs) : honoured;
  }
}
