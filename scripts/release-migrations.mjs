// `npm run db:release`: record every migration as released in database/released-migrations.json
// (version → SHA-256 of the file). From then on a released migration is append-only history:
// tests/functions/migrations-released.test.ts fails when one changes or disappears, or when a
// new migration is dated before the last released one, so a deployed database never diverges
// from the files. Change a released capability with a new migration; run this when you ship.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { migrationsDir, root } from "./lib.mjs";

export const releasedFile = path.join(root, "database", "released-migrations.json");

/** version → { file, sha256 } for every migration file on disk. */
export function migrationChecksums() {
  const out = {};
  for (const file of readdirSync(migrationsDir).filter((f) => /^\d{14}_.+\.sql$/.test(f)).sort()) {
    const sha256 = createHash("sha256").update(readFileSync(path.join(migrationsDir, file))).digest(
      "hex",
    );
    out[file.slice(0, 14)] = { file, sha256 };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const released = JSON.parse(readFileSync(releasedFile, "utf8").toString() || "{}");
  const current = migrationChecksums();
  for (const [version, entry] of Object.entries(released.migrations ?? {})) {
    if (current[version]?.sha256 !== entry.sha256) {
      console.error(
        `released migration ${entry.file} changed or disappeared; restore it and add a new migration instead`,
      );
      process.exit(1);
    }
  }
  const added = Object.keys(current).filter((v) => !(v in (released.migrations ?? {})));
  writeFileSync(
    releasedFile,
    JSON.stringify(
      {
        note:
          "Released migrations are append-only: never edit or delete one listed here (npm run db:release adds new ones).",
        migrations: current,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(
    added.length
      ? `released: ${added.map((v) => current[v].file).join(", ")}`
      : "nothing new to release",
  );
}
