// Supabase entrypoint for the qr-codes function.
import { app } from "./app.ts";

Deno.serve(app.fetch);
