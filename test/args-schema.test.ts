import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import ts from "typescript";
import { z } from "zod";
import { gatewayArgsSchema } from "../components/apimGatewayArgs";
import { gatewayNetworkArgsSchema } from "../components/gatewayNetworkArgs";
import { scaleSetArgsSchema } from "../components/openAiScaleSetArgs";
import { objectOf, type Schema } from "./zodShape";

/*
 * Component args are declared twice: as interfaces (what Pulumi's analyzer turns into other languages'
 * SDKs and what TypeScript users see) and as zod schemas (what the constructors enforce). This test
 * walks both side by side, every nested level included, and fails when a key exists on one side only
 * or is optional on one side and required on the other.
 */

const COMPONENTS = path.resolve(__dirname, "..", "components");

interface Member {
  optional: boolean;
  type: ts.TypeNode | undefined;
}
type Interfaces = Map<string, Map<string, Member>>;

/** Every interface declared in components/, by name. */
function readInterfaces(): Interfaces {
  const interfaces: Interfaces = new Map();
  for (const file of fs.readdirSync(COMPONENTS).filter((f) => f.endsWith(".ts"))) {
    const source = ts.createSourceFile(
      file,
      fs.readFileSync(path.join(COMPONENTS, file), "utf8"),
      ts.ScriptTarget.ES2022,
    );
    ts.forEachChild(source, (node) => {
      if (!ts.isInterfaceDeclaration(node)) return;
      const members = new Map<string, Member>();
      for (const m of node.members) {
        if (ts.isPropertySignature(m)) {
          members.set(m.name.getText(source), { optional: m.questionToken !== undefined, type: m.type });
        }
      }
      interfaces.set(node.name.text, members);
    });
  }
  return interfaces;
}

/** The interface a property's type refers to, directly, as array elements or as map values. */
function nestedInterface(type: ts.TypeNode | undefined, interfaces: Interfaces): string | undefined {
  if (!type) return undefined;
  if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    return interfaces.has(type.typeName.text) ? type.typeName.text : undefined;
  }
  if (ts.isArrayTypeNode(type)) return nestedInterface(type.elementType, interfaces);
  if (ts.isTypeLiteralNode(type)) {
    const index = type.members.find(ts.isIndexSignatureDeclaration);
    return index ? nestedInterface(index.type, interfaces) : undefined;
  }
  return undefined;
}

/** Differences between an interface and the object schema that validates it, recursively. */
export function drift(interfaceName: string, schema: Schema, interfaces: Interfaces, at = interfaceName): string[] {
  const members = interfaces.get(interfaceName);
  const object = objectOf(schema);
  if (!members) return [`${at}: no interface ${interfaceName}`];
  if (object._zod.def.type !== "object") return [`${at}: the schema is not an object but ${object._zod.def.type}`];
  const shape = object._zod.def.shape!;
  const problems: string[] = [];
  for (const key of members.keys())
    if (!(key in shape)) problems.push(`${at}.${key}: in the interface, not in the schema`);
  for (const key of Object.keys(shape))
    if (!members.has(key)) problems.push(`${at}.${key}: in the schema, not in the interface`);
  for (const [key, member] of members) {
    const field = shape[key];
    if (!field) continue;
    const optional = field.safeParse(undefined).success;
    if (optional !== member.optional) {
      problems.push(
        `${at}.${key}: ${member.optional ? "optional" : "required"} in the interface, ${optional ? "optional" : "required"} in the schema`,
      );
    }
    const nested = nestedInterface(member.type, interfaces);
    if (nested) problems.push(...drift(nested, field, interfaces, `${at}.${key}`));
  }
  return problems;
}

describe("component args: interfaces and schemas agree", () => {
  const interfaces = readInterfaces();

  it("OpenAiScaleSetArgs, at every level", () => {
    expect(drift("OpenAiScaleSetArgs", scaleSetArgsSchema({}) as unknown as Schema, interfaces)).to.deep.equal([]);
  });

  it("ApimGatewayArgs, at every level", () => {
    expect(drift("ApimGatewayArgs", gatewayArgsSchema({}) as unknown as Schema, interfaces)).to.deep.equal([]);
  });

  it("GatewayNetworkArgs, at every level", () => {
    expect(drift("GatewayNetworkArgs", gatewayNetworkArgsSchema({}) as unknown as Schema, interfaces)).to.deep.equal(
      [],
    );
  });

  it("covers the args of every component the library exports", () => {
    const index = fs.readFileSync(path.join(COMPONENTS, "index.ts"), "utf8");
    const components = [...index.matchAll(/export \{ (\w+)[ ,][^}]*\} from "\.\/(\w+)"/g)]
      .map((m) => m[1])
      .filter((name) => interfaces.has(`${name}Args`));
    expect(components.sort()).to.deep.equal(["ApimGateway", "GatewayNetwork", "OpenAiScaleSet"]);
  });

  it("walks into nested args (so drift below the top level is caught)", () => {
    const visited: string[] = [];
    const walk = (name: string) => {
      visited.push(name);
      for (const member of interfaces.get(name)!.values()) {
        const nested = nestedInterface(member.type, interfaces);
        if (nested) walk(nested);
      }
    };
    walk("ApimGatewayArgs");
    walk("OpenAiScaleSetArgs");
    expect(visited).to.include.members([
      "ApimSkuArgs",
      "ApimBackendArgs",
      "CircuitBreakerArgs",
      "StatusCodeRangeArgs",
      "RetryArgs",
      "TokenLimitArgs",
      "GatewayMonitoringArgs",
      "OpenAiInstanceArgs",
      "OpenAiDeploymentOverrideArgs",
      "OpenAiDeploymentArgs",
    ]);
  });

  it("reports a key on one side only, and an optionality mismatch, nested too", () => {
    const fake: Interfaces = new Map([
      [
        "OuterArgs",
        new Map<string, Member>([
          ["inner", { optional: true, type: ts.factory.createTypeReferenceNode("InnerArgs") }],
          ["name", { optional: false, type: undefined }],
        ]),
      ],
      [
        "InnerArgs",
        new Map<string, Member>([
          ["a", { optional: false, type: undefined }],
          ["b", { optional: true, type: undefined }],
        ]),
      ],
    ]);
    const schema = z.strictObject({
      name: z.string().optional(),
      inner: z.array(z.strictObject({ a: z.number(), c: z.number() })).optional(),
    }) as unknown as Schema;
    expect(drift("OuterArgs", schema, fake)).to.have.members([
      "OuterArgs.name: required in the interface, optional in the schema",
      "OuterArgs.inner.b: in the interface, not in the schema",
      "OuterArgs.inner.c: in the schema, not in the interface",
    ]);
  });
});
