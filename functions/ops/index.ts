// Supabase entrypoint for the ops function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
