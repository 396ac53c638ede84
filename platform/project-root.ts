/**
 * The repository root, found from this file's place whether it runs as TypeScript (platform/) or
 * compiled (dist/platform/): the nearest directory above holding package.json. Paths to the
 * project's files (hardhat.config.ts, artifacts, services/data, docs) start here, never from
 * `__dirname`, which differs by one level between the two.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: cannot find the project root`);
  }
}

export const PROJECT_ROOT = findRoot(__dirname);
