// Copies the non-TypeScript files the library reads at run time next to the compiled code in dist/.
// (tsc copies the imported OpenAPI JSON itself; the policy templates are read from disk.)
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "dist", "policies");
mkdirSync(target, { recursive: true });
for (const file of readdirSync(join(root, "policies")).filter((f) => f.endsWith(".xml"))) {
  copyFileSync(join(root, "policies", file), join(target, file));
}
