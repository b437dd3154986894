// Supabase entrypoint for the withdrawals function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
