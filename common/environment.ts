/*
 * Which stacks count as production. One definition for the plan's warnings and the policy pack's
 * rules (which import this file, so it imports nothing).
 */

/**
 * A stack name such as `prod`, `production`, `prd`, `eu-prod` or `prod-west`: the word stands alone
 * between separators, so `preprod`, `nonprod` and `products` are not production.
 */
export const PRODUCTION_STACK = /(^|[-_.])(prod|production|prd)([-_.]|$)/i;

export function isProductionStack(stack: string): boolean {
  return PRODUCTION_STACK.test(stack);
}
