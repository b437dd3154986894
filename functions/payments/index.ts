// Supabase entrypoint for the payments function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
