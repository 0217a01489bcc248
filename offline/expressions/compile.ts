import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { methodBody, type PolicyExpression } from "./extract";

/*
 * Compiles policy expressions with Mono's C# compiler against apimContext.cs, a typed stand-in for
 * APIM's `context`. It catches what XML checks cannot (syntax, unknown members, type errors), not
 * APIM's allow-list of .NET types. Needs `mcs` and Newtonsoft.Json (Debian: mono-mcs,
 * libnewtonsoft-json-cil-dev); toolchain() says whether they are there.
 */

const NEWTONSOFT_CANDIDATES = [
  "/usr/lib/cli/Newtonsoft.Json-5.0/Newtonsoft.Json.dll",
  "/usr/lib/mono/gac/Newtonsoft.Json/6.0.0.0__b9a188c8922137c6/Newtonsoft.Json.dll",
  "/usr/lib/mono/4.5/Newtonsoft.Json.dll",
];

export interface Toolchain {
  mcs: string;
  newtonsoft: string;
}

/** The compiler and Json.NET, or a sentence saying what is missing. */
export function toolchain(): Toolchain | string {
  let mcs: string;
  try {
    mcs = execFileSync("sh", ["-c", "command -v mcs"], { encoding: "utf8" }).trim();
  } catch {
    return "mcs (Mono's C# compiler) is not installed: apt-get install mono-mcs libnewtonsoft-json-cil-dev";
  }
  const newtonsoft = NEWTONSOFT_CANDIDATES.find((p) => fs.existsSync(p));
  if (!newtonsoft) {
    return "Newtonsoft.Json for Mono is not installed: apt-get install libnewtonsoft-json-cil-dev";
  }
  return { mcs, newtonsoft };
}

export interface CompileError {
  where: string;
  code: string;
  message: string;
}

/** C# source with one static method per expression; `lines[i]` is the expression a line belongs to. */
export function csharpSource(expressions: readonly PolicyExpression[]): { source: string; owners: number[] } {
  const lines = [
    "using System;",
    "using System.Collections.Generic;",
    "using System.Linq;",
    "using System.Text;",
    "using System.Text.RegularExpressions;",
    "using Newtonsoft.Json;",
    "using Newtonsoft.Json.Linq;",
    "using Apim;",
    "public static class PolicyExpressions",
    "{",
  ];
  const owners: number[] = lines.map(() => -1);
  expressions.forEach((expression, i) => {
    const body = [
      `    // ${expression.where.replace(/\n/g, " ")}`,
      `    public static object E${i}(IContext context)`,
      "    {",
    ]
      .concat(
        methodBody(expression.code)
          .split("\n")
          .map((l) => `        ${l}`),
      )
      .concat(["    }"]);
    for (const line of body) {
      lines.push(line);
      owners.push(i);
    }
  });
  lines.push("}");
  owners.push(-1);
  return { source: lines.join("\n") + "\n", owners };
}

/** Compiles the expressions; returns the errors, each with the expression it belongs to. */
export function compileExpressions(expressions: readonly PolicyExpression[], tools: Toolchain): CompileError[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-expressions-"));
  try {
    const { source, owners } = csharpSource(expressions);
    const file = path.join(dir, "expressions.cs");
    fs.writeFileSync(file, source);
    let output = "";
    try {
      execFileSync(
        tools.mcs,
        [
          "-target:library",
          "-nologo",
          "-langversion:7",
          `-r:${tools.newtonsoft}`,
          "-r:System.Core",
          `-out:${path.join(dir, "expressions.dll")}`,
          path.join(__dirname, "apimContext.cs"),
          file,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
      return [];
    } catch (e) {
      const failure = e as { stdout?: string; stderr?: string };
      output = `${failure.stdout ?? ""}${failure.stderr ?? ""}`;
    }
    const errors: CompileError[] = [];
    for (const line of output.split("\n")) {
      const match = /expressions\.cs\((\d+),\d+\): error (CS\d+: .*)$/.exec(line);
      if (match) {
        const owner = owners[Number(match[1]) - 1] ?? -1;
        const expression = expressions[owner];
        errors.push({
          where: expression?.where ?? "(generated code)",
          code: expression?.code ?? "",
          message: match[2],
        });
      } else if (/error CS\d+/.test(line)) {
        errors.push({ where: "(compiler)", code: "", message: line.trim() });
      }
    }
    return errors.length > 0 ? errors : [{ where: "(compiler)", code: "", message: output.trim() }];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
