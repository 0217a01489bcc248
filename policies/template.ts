import { XMLValidator } from "fast-xml-parser";
import { fileReader } from "../common/files";

/*
 * A deliberately small template engine for the policy XML files in this folder:
 * `{{name}}` becomes the XML-escaped value, `{{{name}}}` an already rendered fragment (inserted as is).
 * A line holding only a fragment that renders empty disappears, so optional parts leave no gaps.
 */

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Escapes text for an XML attribute value or element content. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** Reads a template of this folder once per process. */
export const loadTemplate = fileReader(__dirname);

export type TemplateValues = Record<string, string | number | boolean>;

/** Fills a template; every placeholder must have a value (a missing one is a bug, not an empty string). */
export function render(template: string, values: TemplateValues, fragments: Record<string, string> = {}): string {
  const filled = template
    .replace(/\{\{\{(\w+)\}\}\}/g, (_, name: string) => {
      if (!(name in fragments)) {
        throw new Error(`policy template: no fragment for {{{${name}}}}`);
      }
      return fragments[name].replace(/\n$/, "");
    })
    .replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      if (!(name in values)) {
        throw new Error(`policy template: no value for {{${name}}}`);
      }
      return escapeXml(String(values[name]));
    });
  return filled
    .split("\n")
    .filter((line, i, lines) => line.trim() !== "" || i === lines.length - 1)
    .join("\n");
}

/** Throws if `xml` is not well-formed; APIM refuses such a policy only at deploy time. */
export function assertWellFormed(xml: string, what: string): void {
  const result = XMLValidator.validate(xml);
  if (result !== true) {
    throw new Error(`${what} is not well-formed XML: ${result.err.msg} (line ${result.err.line})`);
  }
}

/** Indents every non-empty line of a rendered fragment by `spaces` more, to nest it in another element. */
export function indent(fragment: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return fragment
    .split("\n")
    .map((line) => (line.trim() === "" ? line : pad + line))
    .join("\n");
}

/**
 * An attribute whose value may hold double quotes (policy expressions with string literals): XML
 * allows them inside a single-quoted attribute, which keeps the expression readable. APIM accepts
 * single-quoted attributes and stores them double-quoted (Azure-Samples/AI-Gateway's finops-framework
 * lab renders its policies this way; ronaldbosma.github.io, "validate APIM policies with PSRule").
 */
export function attribute(name: string, value: string): string {
  if (value.includes('"') && !value.includes("'")) {
    return `${name}='${value.replace(/&/g, "&amp;").replace(/</g, "&lt;")}'`;
  }
  return `${name}="${escapeXml(value)}"`;
}
