// Supabase entrypoint for the invoices function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
