// Supabase entrypoint for the wallets function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
