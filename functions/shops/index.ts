// Supabase entrypoint for the shops function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
