import { XMLParser } from "fast-xml-parser";

/*
 * APIM policy XML as an element tree, read with a real XML parser: for the plan, which reads routing
 * and retries back from the rendered policy, and for tests that assert on policies.
 */

/** An element of a parsed XML document: tag, attributes, children (comments and text dropped). */
export interface XmlElement {
  tag: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

type Ordered = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  preserveOrder: true,
  parseAttributeValue: false,
  parseTagValue: false,
  allowBooleanAttributes: false,
});

function convert(nodes: Ordered[]): XmlElement[] {
  const out: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ":@");
    if (!tag || tag === "#text" || tag === "#comment") {
      continue;
    }
    const childNodes = node[tag] as Ordered[];
    out.push({
      tag,
      attributes: node[":@"] ?? {},
      children: convert(childNodes),
      text: childNodes
        .filter((c) => "#text" in c)
        .map((c) => String(c["#text"]))
        .join(""),
    });
  }
  return out;
}

/** Parses XML with a real parser; throws on malformed input. */
export function parseXml(xml: string): XmlElement {
  const roots = convert(parser.parse(xml) as Ordered[]);
  if (roots.length !== 1) {
    throw new Error(`expected one root element, found ${roots.length}`);
  }
  return roots[0];
}

/** Every descendant (depth-first) with this tag. */
export function findAll(element: XmlElement, tag: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.tag === tag ? [child] : []), ...findAll(child, tag)]);
}

/** The one child with this tag; fails loudly otherwise. */
export function child(element: XmlElement, tag: string): XmlElement {
  const found = element.children.filter((c) => c.tag === tag);
  if (found.length !== 1) {
    throw new Error(`<${element.tag}> has ${found.length} <${tag}> children`);
  }
  return found[0];
}
