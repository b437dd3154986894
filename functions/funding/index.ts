// Supabase entrypoint for the funding function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
