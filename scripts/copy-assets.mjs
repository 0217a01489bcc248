// Copies the non-TypeScript files the library reads at run time next to the compiled code in dist/.
// (tsc copies the imported OpenAPI JSON itself; the policy and query templates are read from disk.)
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const copy = (folder, extension) => {
  const target = join(root, "dist", folder);
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(join(root, folder)).filter((f) => f.endsWith(extension))) {
    copyFileSync(join(root, folder, file), join(target, file));
  }
};
copy("policies", ".xml");
copy("queries/alerts", ".kql");
copy("queries/workbook", ".kql");
