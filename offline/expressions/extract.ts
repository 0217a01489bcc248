import { parseXml, type XmlElement } from "../plan/xml";

/*
 * The C# policy expressions of a rendered policy (`@(...)` single expressions and `@{...}` blocks),
 * wherever they are: attribute values and element text. APIM compiles them when the policy is saved
 * and refuses the whole policy on the first error, which only `pulumi up` would reveal; this is what
 * lets them be compiled here first (compile.ts).
 */

export interface PolicyExpression {
  /** Where it is, e.g. `policies/inbound/choose/when[condition]`. */
  where: string;
  /** The expression as written, starting with `@(` or `@{`. */
  code: string;
}

function isExpression(value: string): boolean {
  const trimmed = value.trim();
  return (trimmed.startsWith("@(") && trimmed.endsWith(")")) || (trimmed.startsWith("@{") && trimmed.endsWith("}"));
}

function walk(element: XmlElement, path: string, out: PolicyExpression[]): void {
  const here = `${path}/${element.tag}`;
  for (const [name, value] of Object.entries(element.attributes)) {
    if (isExpression(value)) out.push({ where: `${here}[${name}]`, code: value.trim() });
  }
  if (isExpression(element.text)) out.push({ where: here, code: element.text.trim() });
  for (const child of element.children) walk(child, here, out);
}

/** Every expression of a policy document, in document order. */
export function policyExpressions(xml: string): PolicyExpression[] {
  const out: PolicyExpression[] = [];
  walk(parseXml(xml), "", out);
  return out;
}

/** A method body returning the expression's value: `@(x)` -> `return (x);`, `@{ ... }` -> `...`. */
export function methodBody(code: string): string {
  return code.startsWith("@(") ? `return ${code.slice(1)};` : code.slice(2, -1);
}
