import * as fs from "node:fs";
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { expect } from "chai";
import ts from "typescript";
import { parse } from "yaml";
import { ApimGateway, OpenAiScaleSet } from "../../components";

/*
 * `pulumi package add <repo>` generates SDKs for other languages from the TypeScript components,
 * with the SDK's own analyzer. These tests run that analyzer and check what it needs: no union
 * types in args, an argument named `args`, declared types.
 */

const ROOT = path.resolve(__dirname, "..", "..");

/** Properties of exported `*Args` interfaces whose type is a union Pulumi cannot express. */
export function unionViolations(program: ts.Program, files: readonly string[]): string[] {
  const checker = program.getTypeChecker();
  const violations: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) {
      throw new Error(`not in the program: ${file}`);
    }
    ts.forEachChild(source, (node) => {
      if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith("Args")) {
        return;
      }
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || !member.type) {
          continue;
        }
        const type = checker.getTypeFromTypeNode(member.type);
        if (!type.isUnion() || type.aliasSymbol?.getName() === "Input") {
          continue; // pulumi.Input<T> is the one union Pulumi's schema understands
        }
        const members = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
        const literals =
          members.every((t) => t.isStringLiteral()) || members.every((t) => t.flags & ts.TypeFlags.BooleanLiteral);
        if (members.length > 1 && !literals) {
          violations.push(`${node.name.text}.${member.name.getText(source)}: ${member.type.getText(source)}`);
        }
      }
    });
  }
  return violations;
}

describe("multi-language component package", function () {
  this.timeout(60_000);

  it("declares a nodejs plugin in PulumiPlugin.yaml", () => {
    expect(parse(fs.readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8"))).to.deep.equal({ runtime: "nodejs" });
  });

  it("has no union types in any public args interface", () => {
    const files = fs
      .readdirSync(path.join(ROOT, "components"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => path.join(ROOT, "components", f));
    const program = ts.createProgram(files, {
      strict: true,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      skipLibCheck: true,
      resolveJsonModule: true,
      esModuleInterop: true,
    });
    expect(unionViolations(program, files)).to.deep.equal([]);
  });

  it("finds a union type when there is one (the check above can fail)", () => {
    const file = path.join(ROOT, "virtual-bad.ts");
    const host = ts.createCompilerHost({ strict: true });
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version) =>
      name === file
        ? ts.createSourceFile(
            name,
            'export interface BadArgs { sku: string | number; ok?: boolean; kind?: "a" | "b" }',
            version,
          )
        : read(name, version);
    const program = ts.createProgram([file], { strict: true }, host);
    expect(unionViolations(program, [file])).to.deep.equal(["BadArgs.sku: string | number"]);
  });

  describe("the schema Pulumi generates from the components", () => {
    let schema: {
      name: string;
      resources: Record<
        string,
        {
          isComponent: boolean;
          inputProperties: Record<string, { plain?: boolean }>;
          requiredInputs: string[];
          properties: Record<string, unknown>;
        }
      >;
      types: Record<string, { properties: Record<string, { plain?: boolean; type?: string }> }>;
    };
    before(async () => {
      // Pulumi's own analyzer, as `pulumi package add` runs it: it throws on unsupported args types.
      const provider = new ComponentProvider({
        dirname: ROOT,
        name: "openai-apim",
        components: [OpenAiScaleSet, ApimGateway],
      });
      schema = JSON.parse(await provider.getSchema());
    });

    it("names both components in the index module", () => {
      expect(schema.name).to.equal("openai-apim");
      expect(Object.keys(schema.resources).sort()).to.deep.equal([
        "openai-apim:index:ApimGateway",
        "openai-apim:index:OpenAiScaleSet",
      ]);
      for (const resource of Object.values(schema.resources)) {
        expect(resource.isComponent).to.equal(true);
      }
    });

    it("describes the scale set's args and its backends output", () => {
      const scaleSet = schema.resources["openai-apim:index:OpenAiScaleSet"];
      expect(scaleSet.requiredInputs.sort()).to.deep.equal(["deployments", "instances", "resourceGroupName"]);
      expect(Object.keys(scaleSet.inputProperties)).to.include.members([
        "disableLocalAuth",
        "tags",
        "publicNetworkAccess",
      ]);
      expect(Object.keys(scaleSet.properties)).to.include.members(["accounts", "deployments", "backends"]);
    });

    it("keeps the gateway's backend endpoints and ids as inputs other languages can wire outputs into", () => {
      const gateway = schema.resources["openai-apim:index:ApimGateway"];
      expect(gateway.requiredInputs.sort()).to.deep.equal([
        "backends",
        "publisherEmail",
        "publisherName",
        "resourceGroupName",
        "sku",
      ]);
      const backend = schema.types["openai-apim:index:ApimBackendArgs"].properties;
      expect(backend.endpoint.plain).to.equal(undefined);
      expect(backend.resourceId.plain).to.equal(undefined);
      expect(backend.name).to.deep.include({ type: "string", plain: true });
      // Which deployments an account hosts is a plain list: the gateway creates a backend per entry.
      expect(backend.deployments).to.deep.include({ type: "array", plain: true });
      expect(Object.keys(gateway.properties)).to.include.members([
        "endpoint",
        "gatewayUrl",
        "subscriptionKey",
        "pools",
        "backends",
      ]);
    });
  });
});
