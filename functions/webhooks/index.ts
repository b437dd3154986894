// Supabase entrypoint for the webhooks function (verify_jwt = false: see app.ts).
import { app } from "./app.ts";

Deno.serve(app.fetch);
