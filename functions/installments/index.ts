// Supabase entrypoint for the installments function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
