// Released migrations are append-only (database/released-migrations.json, written by
// `npm run db:release`): a deployed database must never diverge from the files, so a released
// migration may not change or disappear, and a new one must come after every released one
// (dbmate would otherwise apply it out of order, or never, on a database already past it).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { migrationChecksums } from "../../scripts/release-migrations.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const released = JSON.parse(readFileSync(path.join(root, "database/released-migrations.json"), "utf8")) as {
  migrations?: Record<string, { file: string; sha256: string }>;
};
const recorded = Object.entries(released.migrations ?? {});
const current = migrationChecksums() as Record<string, { file: string; sha256: string }>;

describe("released migrations", () => {
  it("are recorded (the history starts somewhere)", () => {
    expect(recorded.length).toBeGreaterThan(0);
  });

  it("are unchanged, byte for byte, and none has disappeared", () => {
    const changed = recorded
      .filter(([version, entry]) => current[version]?.sha256 !== entry.sha256)
      .map(([, entry]) => `${entry.file}: ${current[entry.file.slice(0, 14)] ? "changed" : "deleted"}`);
    expect(changed).toEqual([]);
  });

  it("are followed, never preceded, by new migrations", () => {
    const last = recorded.map(([version]) => version).sort().at(-1) ?? "";
    const early = Object.entries(current)
      .filter(([version]) => !(version in (released.migrations ?? {})) && version < last)
      .map(([, entry]) => entry.file);
    expect(early).toEqual([]);
  });
});
