// Supabase entrypoint for the orders function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
