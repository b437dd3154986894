// Provider webhooks (verify_jwt = false: providers carry no user token) and the sweep.
//
// Every inbound message is stored first and applied exactly once (ingest.ts). We answer
// 2xx as soon as the message is stored, whatever applying it concluded, so providers do
// not retry what we already have. Daraja (daraja.ts) signs nothing and is checked by its
// secret path token and by asking M-Pesa; KCB and DTB (banks.ts) sign with HMAC-SHA256.
// The sweep (sweep.ts) settles what no callback did.
import { createFunctionApp } from "../_shared/app.ts";
import { apiDocs, serveOpenApi } from "../_shared/openapi.ts";
import { bankRoutes } from "./banks.ts";
import { darajaRoutes } from "./daraja.ts";
import { sweepRoutes } from "./sweep.ts";

export const app = createFunctionApp("webhooks");
export const docs = apiDocs(
  "webhooks",
  "Provider callbacks and the money sweep",
  "Where M-Pesa (Daraja), KCB and DTB report payments. Every message is stored, verified and applied once; " +
    "a stored message is acknowledged with 2xx whatever applying it concluded. See docs/money-movement.md.",
);
serveOpenApi(app, docs);

darajaRoutes(app, docs);
bankRoutes(app, docs);
sweepRoutes(app, docs);
