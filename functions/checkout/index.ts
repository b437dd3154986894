// Supabase entrypoint for the checkout function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
