import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A reader for the text files shipped next to a module (policy and query templates): each file is
 * read once per process. The files sit beside the compiled code too (scripts/copy-assets.mjs).
 */
export function fileReader(folder: string): (file: string) => string {
  const cache = new Map<string, string>();
  return (file) => {
    let text = cache.get(file);
    if (text === undefined) {
      text = fs.readFileSync(path.join(folder, file), "utf8");
      cache.set(file, text);
    }
    return text;
  };
}
