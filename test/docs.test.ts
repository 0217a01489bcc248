import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { DEPLOYMENT_NAME_RULE, INSTANCE_NAME_RULE } from "../components/openAiScaleSetArgs";
import { stackConfigSchema } from "../program/stackConfig";
import { ALERT_RULE_LIST } from "../queries/alertRules";
import { workbookLayout } from "../queries/workbook";
import { keyPaths, structure, type Schema } from "./zodShape";

/*
 * The README and docs/ stay navigable: every relative link points at a file that exists and, with an
 * anchor, at a heading in it; the README's layout table names every top-level folder and nothing
 * that is not there.
 */

const ROOT = path.resolve(__dirname, "..");
const DOCS = [
  "README.md",
  ...fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N} -]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "");
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

/** Relative links `[text](target)` outside code blocks, with the file they are in. */
export function relativeLinks(file: string, markdown: string): { file: string; target: string }[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => ({ file, target }));
}

/** Links whose file or anchor does not exist. */
export function brokenLinks(files: Record<string, string>): string[] {
  const broken: string[] = [];
  for (const [file, markdown] of Object.entries(files)) {
    for (const { target } of relativeLinks(file, markdown)) {
      const [pathPart, anchor] = target.split("#");
      const resolved = pathPart ? path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart)) : file;
      const text =
        files[resolved] ??
        (fs.existsSync(path.join(ROOT, resolved)) ? fs.readFileSync(path.join(ROOT, resolved), "utf8") : undefined);
      if (text === undefined) {
        broken.push(`${file}: ${target} (no such file)`);
      } else if (anchor && resolved.endsWith(".md") && !anchorsOf(text).has(anchor)) {
        broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
  }
  return broken;
}

describe("documentation", () => {
  const files = Object.fromEntries(DOCS.map((f) => [f, fs.readFileSync(path.join(ROOT, f), "utf8")]));

  it("has a README and one guide per topic in docs/", () => {
    expect(DOCS.length).to.be.at.least(6);
  });

  it("resolves every relative link, anchors included", () => {
    expect(relativeLinks("README.md", files["README.md"]).length).to.be.greaterThan(8);
    expect(brokenLinks(files)).to.deep.equal([]);
  });

  it("catches a link to a missing file or heading (so the check above can fail)", () => {
    expect(
      brokenLinks({ "README.md": "# Title\n[a](docs/nope.md) [b](#title) [c](#nowhere) [d](https://x.y/z)" }),
    ).to.deep.equal(["README.md: docs/nope.md (no such file)", "README.md: #nowhere (no heading #nowhere)"]);
  });

  it("keeps the README to what a newcomer needs first", () => {
    // Operating the gateway (alerts and the workbook's picture) is the one section every operator needs.
    expect(files["README.md"].split("\n").length).to.be.below(375);
    for (const heading of [
      "Quick start",
      "Deploy",
      "Point your client at the gateway",
      "Configuration at a glance",
      "Operating the gateway",
      "Documentation",
    ]) {
      expect(files["README.md"]).to.match(new RegExp(`^## ${heading}`, "m"));
    }
  });

  it("documents every stack config key in docs/configuration.md", () => {
    const reference = files["docs/configuration.md"].replace(/\\_/g, "_");
    const shape = structure(stackConfigSchema() as unknown as Schema)._zod.def.shape!;
    const paths = Object.entries(shape).flatMap(([key, field]) => [
      key === "location" ? "azure-native:location" : `openai-apim:${key}`,
      ...keyPaths(field, key),
    ]);
    expect(paths).to.include.members([
      "openai-apim:instances",
      "instances[].deployments.<name>.sku",
      "retry.statusCodes",
    ]);
    expect(paths.filter((p) => !reference.includes(`\`${p}\``))).to.deep.equal([]);
  });

  it("explains every alert with its default severity and threshold, and pictures the workbook as built", () => {
    const section = files["README.md"].split("## Operating the gateway")[1].split("\n## ")[0];
    const rows = section.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| Alert"));
    const described = rows.filter((row) => !/^\|\s*-/.test(row));
    expect(described).to.have.length(ALERT_RULE_LIST.length);
    ALERT_RULE_LIST.forEach((rule, i) => {
      expect(described[i]).to.contain(`${rule.title} (${rule.defaultSeverity})`);
      expect(described[i]).to.match(new RegExp(`\\b${rule.defaultThreshold}\\b`));
    });
    expect(section).to.contain(workbookLayout({ teams: true, accountLogs: true }));
    const operations = files["docs/operations.md"];
    for (const rule of ALERT_RULE_LIST) expect(operations, rule.id).to.contain(rule.action);
  });

  it("states the name rules the code enforces", () => {
    const reference = files["docs/configuration.md"].replace(/\\_/g, "_");
    expect(reference).to.contain(INSTANCE_NAME_RULE);
    expect(reference).to.contain(DEPLOYMENT_NAME_RULE);
  });

  it("has a project layout table that matches the tree", () => {
    const section = files["README.md"].split("## Project layout")[1].split("\n## ")[0];
    const listed = [...section.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1].replace(/\/$/, ""));
    for (const entry of listed) {
      expect(fs.existsSync(path.join(ROOT, entry)), `${entry} is listed but does not exist`).to.equal(true);
    }
    const folders = fs
      .readdirSync(ROOT, { withFileTypes: true })
      .filter(
        (e) =>
          e.isDirectory() &&
          !e.name.startsWith(".") &&
          !["node_modules", "dist", "bin", "plan", "reports"].includes(e.name),
      )
      .map((e) => e.name);
    expect(folders.filter((f) => !listed.includes(f))).to.deep.equal([]);
  });
});
