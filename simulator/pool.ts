/** A pool member as the pool sees it. */
export interface PoolMember {
  priority: number;
  weight: number;
}

/**
 * APIM's backend pool on one gateway unit: the lowest priority number with a closed member wins;
 * inside that group traffic is split by weight (smooth weighted round-robin, the even interleaving
 * observed in the AI-Gateway lab), or evenly when every weight is 0.
 */
export class PoolSelector {
  private readonly current: number[];
  private readonly priorities: number[];

  constructor(private readonly members: readonly PoolMember[]) {
    this.current = members.map(() => 0);
    this.priorities = [...new Set(members.map((m) => m.priority))].sort((a, b) => a - b);
  }

  /** Index of the member to call, or undefined when every member is open (the pool answers 503). */
  pick(isOpen: (index: number) => boolean): number | undefined {
    for (const priority of this.priorities) {
      const candidates: number[] = [];
      this.members.forEach((m, i) => {
        if (m.priority === priority && !isOpen(i)) candidates.push(i);
      });
      if (candidates.length === 0) continue;
      const allZero = candidates.every((i) => this.members[i].weight === 0);
      const weightOf = (i: number) => (allZero ? 1 : this.members[i].weight);
      let total = 0;
      let best = -1;
      for (const i of candidates) {
        const weight = weightOf(i);
        this.current[i] += weight;
        total += weight;
        if (weight > 0 && (best === -1 || this.current[i] > this.current[best])) best = i;
      }
      this.current[best] -= total;
      return best;
    }
    return undefined;
  }
}
