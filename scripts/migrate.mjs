// `npm run db:migrate [-- <dbmate command>]`: dbmate with Hazina's layout against DATABASE_URL.
import { dbmate } from "./lib.mjs";

if (!process.env.DATABASE_URL) {
  console.error("Set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/hazina).");
  process.exit(2);
}
const args = process.argv.slice(2);
dbmate(process.env.DATABASE_URL, args.length ? args : ["up"]);
