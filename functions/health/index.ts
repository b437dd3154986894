// Supabase entrypoint for the health function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
