// `npm run openapi`: writes docs/openapi.json, the OpenAPI 3.1 document of every edge
// function, from the route docs each functions/<name>/app.ts declares next to its handlers.
//   node_modules/.bin/deno run -A scripts/openapi.ts            write docs/openapi.json
//   node_modules/.bin/deno run -A scripts/openapi.ts --stdout   print it instead
// tests/functions/openapi.test.ts fails when the committed file differs from this output.
import { writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { combinedDocument } from "../functions/_shared/openapi.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// Importing an app validates the configuration, though generating documents connects to
// nothing and verifies nothing: placeholders stand in for what is not set.
process.env.DATABASE_URL ??= process.env.SUPABASE_DB_URL ??
  "postgres://openapi@127.0.0.1:5432/unused";
if (!process.env.JWT_SECRET && !process.env.JWT_PRIVATE_JWK && !process.env.JWT_JWKS_URL) {
  process.env.JWT_SECRET = "openapi-generation-only-0123456789abcdef";
}
process.env.LOG_LEVEL ??= "silent";

export async function generate(): Promise<string> {
  // Imported only now, after the placeholders above: importing an app reads the config.
  const { functionModules, functionNames } = await import("../functions/registry.ts");
  const all = functionNames.map((name) => functionModules[name].docs);
  return JSON.stringify(combinedDocument(all), null, 2) + "\n";
}

if (import.meta.main) {
  const text = await generate();
  if (process.argv.includes("--stdout")) {
    process.stdout.write(text);
  } else {
    const target = path.join(root, "docs", "openapi.json");
    writeFileSync(target, text);
    console.log(`wrote ${path.relative(process.cwd(), target)}`);
  }
}
