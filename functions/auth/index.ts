// Supabase entrypoint for the auth function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
