import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";

/*
 * Layers point one way: shared helpers (common/) <- policy rendering, the API document and the
 * monitoring queries (policies/, openapi/, queries/) <- components <- program, offline tools and simulator. This test reads every
 * import in the repository and fails on one that points up, and on Pulumi imports in the pure layers.
 */

const ROOT = path.resolve(__dirname, "..");

/** What each layer may import from this repository (besides itself). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  policies: ["common"],
  openapi: ["common"],
  queries: ["common"],
  components: ["common", "policies", "openapi", "queries"],
  simulator: ["common", "policies"],
  program: ["common", "components"],
  "index.ts": ["common", "components", "program"],
  offline: [
    "common",
    "policies",
    "openapi",
    "queries",
    "components",
    "simulator",
    "program",
    "policy-pack",
    "index.ts",
  ],
  "policy-pack": ["common"],
};

/** Layers that must stay plain TypeScript: usable without a Pulumi engine (simulator, policy pack, tests). */
const PURE = ["common", "policies", "openapi", "queries", "simulator"];

/**
 * The package test copies the offline runtime next to an example that has only the published package
 * (test/slow/package.test.ts): its files import nothing of the repository outside their folder
 * (stackFile.ts, which reads stack files of this repository, is not loaded there).
 */
const SELF_CONTAINED = "offline/runtime/";

const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { name: string }).name;

/** Files of `common/` the policy pack (its own npm package, without this one's dependencies) may load. */
const DEPENDENCY_FREE = ["common/apim.ts", "common/environment.ts"];

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

function layerOf(relative: string): string {
  return relative.includes("/") ? relative.split("/")[0] : relative;
}

/** Import specifiers of a TypeScript file: `import ... from`, `export ... from`, `require()`, `import()`. */
export function importsOf(source: string): string[] {
  const found = new Set<string>();
  for (const pattern of [
    /\b(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/g,
    /\bimport\s+["']([^"']+)["']/g,
    /\brequire\(\s*["']([^"']+)["']\s*\)/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ]) {
    for (const match of source.matchAll(pattern)) found.add(match[1]);
  }
  return [...found];
}

/** What is wrong with one file's imports. */
export function checkFile(relative: string, source: string): Violation[] {
  const layer = layerOf(relative);
  const allowed = MAY_IMPORT[layer];
  if (!allowed) return [];
  const violations: Violation[] = [];
  for (const specifier of importsOf(source)) {
    if (DEPENDENCY_FREE.includes(relative)) {
      violations.push({ file: relative, imports: specifier, why: "the policy pack loads this file: no imports" });
      continue;
    }
    if (specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`)) {
      // The package's own name resolves through package.json's exports to dist/: around every layer.
      violations.push({
        file: relative,
        imports: specifier,
        why: "import by relative path, not by the package's name",
      });
      continue;
    }
    if (
      relative.startsWith(SELF_CONTAINED) &&
      relative !== `${SELF_CONTAINED}stackFile.ts` &&
      specifier.startsWith(".") &&
      !path.posix.join(path.posix.dirname(relative), specifier).startsWith(SELF_CONTAINED)
    ) {
      violations.push({
        file: relative,
        imports: specifier,
        why: "the offline runtime imports nothing outside its folder",
      });
      continue;
    }
    if (specifier.startsWith(".")) {
      const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(relative), specifier)).replace(/\\/g, "/");
      const first = target.split("/")[0];
      const targetLayer = first === "index" ? "index.ts" : first;
      if (targetLayer !== layer && !allowed.includes(targetLayer)) {
        violations.push({ file: relative, imports: specifier, why: `${layer} may not import ${targetLayer}` });
      }
      if (layer === "policy-pack" && targetLayer === "common" && !DEPENDENCY_FREE.includes(`${target}.ts`)) {
        violations.push({
          file: relative,
          imports: specifier,
          why: "the policy pack loads only dependency-free files",
        });
      }
    } else if (PURE.includes(layer) && specifier.startsWith("@pulumi/")) {
      violations.push({ file: relative, imports: specifier, why: `${layer} stays free of Pulumi` });
    }
  }
  return violations;
}

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !["node_modules", "dist", "bin", ".git", "test", "examples"].includes(entry.name)) {
        walk(relative);
      } else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        files.push(relative);
      }
    }
  };
  walk("");
  return files;
}

describe("layers point one way", () => {
  it("every import in the repository follows the layer rules", () => {
    const files = sourceFiles();
    expect(files.length).to.be.greaterThan(40);
    const violations = files.flatMap((file) => checkFile(file, fs.readFileSync(path.join(ROOT, file), "utf8")));
    expect(violations).to.deep.equal([]);
  });

  it("has no JSON file beside a module of the same name (Node resolves .json before ts-node's .ts)", () => {
    const shadowed = sourceFiles()
      .map((file) => file.replace(/\.ts$/, ".json"))
      .filter((json) => fs.existsSync(path.join(ROOT, json)));
    expect(shadowed).to.deep.equal([]);
  });

  it("knows every top-level folder with TypeScript in it", () => {
    const layers = new Set(sourceFiles().map(layerOf));
    expect([...layers].filter((l) => !(l in MAY_IMPORT))).to.deep.equal([]);
  });

  it("catches an import that points up, Pulumi in a pure layer, and a pack import with dependencies", () => {
    expect(checkFile("policies/apiPolicy.ts", 'import { x } from "../components/apimGateway";')).to.deep.equal([
      {
        file: "policies/apiPolicy.ts",
        imports: "../components/apimGateway",
        why: "policies may not import components",
      },
    ]);
    expect(checkFile("simulator/simulate.ts", 'import * as pulumi from "@pulumi/pulumi";')[0].why).to.equal(
      "simulator stays free of Pulumi",
    );
    expect(checkFile("components/index.ts", 'export * from "../simulator";')[0].why).to.equal(
      "components may not import simulator",
    );
    expect(checkFile("policy-pack/policies.ts", 'import { z } from "../common/validation";')[0].why).to.equal(
      "the policy pack loads only dependency-free files",
    );
    expect(checkFile("program/x.ts", 'const y = require("../offline/runtime/recorder");')[0].why).to.equal(
      "program may not import offline",
    );
  });

  it("catches any import in a file the policy pack loads, and an import of the package by its own name", () => {
    expect(checkFile("common/apim.ts", 'import { AZURE_REGIONS } from "./regions";')[0].why).to.equal(
      "the policy pack loads this file: no imports",
    );
    expect(checkFile("common/environment.ts", 'import * as fs from "node:fs";')).to.have.length(1);
    expect(checkFile("simulator/x.ts", 'import { ApimGateway } from "openai-apim";')[0].why).to.equal(
      "import by relative path, not by the package's name",
    );
    expect(checkFile("simulator/x.ts", 'import { simulate } from "openai-apim/simulator";')).to.have.length(1);
    expect(checkFile("offline/runtime/placeholders.ts", 'import { x } from "../../common/apim";')[0].why).to.equal(
      "the offline runtime imports nothing outside its folder",
    );
    expect(checkFile("offline/runtime/recorder.ts", 'import { x } from "./wireFormat";')).to.deep.equal([]);
  });
});
