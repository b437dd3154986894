// GET /qr-codes/:id/mpesa: a static or fixed code as Daraja's Dynamic QR (the PNG M-Pesa makes),
// for a Lipa na M-Pesa sticker or a till screen. Read-only: it asks Daraja for the image each
// time and changes nothing here but, on first use, the merchant's paybill account reference
// (public.wallet_paybill_reference creates it once; every later call returns the same one).
//
// Hazina keeps no till or paybill per merchant: the QR pays the platform's paybill
// (MPESA_PAYBILL, TrxCode PB) with the merchant's KES wallet's account reference as the
// account number (RefNo), so the payment reaches the merchant's wallet through the paybill
// path (functions/webhooks, *_paybill.sql). See docs/checkout.md.
import type { Hono } from "hono";
import { z } from "zod";
import { config } from "../_shared/config.ts";
import { ApiError, DATABASE_CODES } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import type { FunctionDocs } from "../_shared/openapi.ts";
import {
  DynamicQrInput,
  generateDynamicQr,
  QR_MAX_SHILLINGS,
  QR_MIN_SHILLINGS,
  roundHalfUpToShillings,
} from "../_shared/providers/mpesa.ts";
import { ProviderUnavailableError } from "../_shared/providers/types.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";

const MpesaQrQuery = z.object({
  amount: z.string().regex(/^[0-9]{1,15}(\.[0-9]{1,4})?$/, "a decimal string").optional()
    .describe("A static code's amount for this QR (required there; a fixed code has its own)."),
  size: z.coerce.number().int().min(100).max(1000).default(300)
    .describe("PNG width and height in pixels (Daraja's Size)."),
}).strict();

interface CodeRow {
  kind: string;
  status: string;
  amount: string | null;
  currency: string;
  slug: string;
}

export function mpesaQrRoutes(app: Hono<UserEnv>, docs: FunctionDocs): void {
  docs.route({
    method: "get",
    path: "/:id/mpesa",
    summary: "One of my static or fixed codes as an M-Pesa Dynamic QR (PNG)",
    description:
      "The PNG Daraja's Dynamic QR API makes (`qrcode/v1/generate`): scanned with the M-Pesa app it pays the " +
      "platform's paybill (TrxCode PB, CPI = MPESA_PAYBILL) with the merchant's KES wallet's account reference as " +
      "the account number, so the money reaches the merchant's wallet as a paybill payment (not as a use of " +
      "the Hazina code). A fixed code's amount, or `amount` for a static code, is sent in whole shillings " +
      "rounded half up (150.49 → 150, 150.50 → 151); it must come to 1–250,000. Read-only: call it again for " +
      "the same image. Only active KES codes; the headers say what the QR carries.",
    auth: "bearer",
    params: z.object({ id: Uuid }),
    query: MpesaQrQuery,
    responses: {
      200: {
        description: "The QR code Daraja generated.",
        contentType: "image/png",
        schema: { type: "string", format: "binary" },
        headers: {
          "X-Mpesa-Amount": { description: "The whole-shilling amount the QR carries." },
          "X-Mpesa-Account": { description: "The account number (RefNo) the QR pays." },
          "X-Mpesa-Paybill": { description: "The paybill (CPI) the QR pays." },
          "X-Mpesa-Request-Id": { description: "Daraja's RequestID for the generation." },
        },
      },
    },
    errors: [
      "qr_code_not_found",
      "qr_code_disabled",
      "qr_code_expired",
      "qr_code_exhausted",
      "mpesa_qr_kind_not_supported",
      "mpesa_qr_invalid_amount",
      "currency_not_supported",
      "wallet_not_found",
      "mpesa_qr_rejected",
      "provider_unavailable",
    ],
  });
  app.get("/:id/mpesa", async (c) => {
    const id = Uuid.safeParse(c.req.param("id"));
    if (!id.success) throw new ApiError(404, "qr_code_not_found", "QR code not found.");
    const query = MpesaQrQuery.parse(c.req.query());
    const found = await userTx(c, async (tx) => {
      // RLS: only the merchant's own code is visible.
      const [row] = await tx`select q.kind, public.qr_code_resolve(q.slug) ->> 'status' as status,
          q.amount::text as amount, q.currency, q.slug
        from public.qr_codes q where q.id = ${id.data}`;
      if (!row) return null;
      const code = row as unknown as CodeRow;
      if (code.kind !== "static" && code.kind !== "fixed") return { code };
      if (code.status !== "active") return { code };
      if (code.currency !== "KES") return { code };
      const [resolved] =
        await tx`select public.qr_code_resolve(${code.slug}) ->> 'merchant_name' as name,
        public.wallet_paybill_reference('KES') ->> 'account_reference' as account`;
      return { code, name: resolved.name as string, account: resolved.account as string };
    });
    if (!found) throw new ApiError(404, "qr_code_not_found", "QR code not found.");
    const { code } = found;
    if (code.kind !== "static" && code.kind !== "fixed") {
      throw new ApiError(
        409,
        "mpesa_qr_kind_not_supported",
        "Only static and fixed codes get an M-Pesa QR; invoice, order and intent codes are paid through their checkout page.",
      );
    }
    if (code.status !== "active") {
      const refusal = code.status === "expired" || code.status === "exhausted"
        ? `qr_code_${code.status}`
        : "qr_code_disabled";
      throw new ApiError(409, refusal, DATABASE_CODES[refusal][1]);
    }
    if (code.currency !== "KES") {
      throw new ApiError(400, "currency_not_supported", "M-Pesa QR codes are KES only.");
    }
    const amount = code.kind === "fixed" ? code.amount : query.amount;
    const invalidAmount = () =>
      new ApiError(
        400,
        "mpesa_qr_invalid_amount",
        "An M-Pesa QR's amount is whole shillings, rounded half up, from 1 to 250,000: a static code needs `amount`, a fixed code uses its own and takes none.",
      );
    if (!amount || (code.kind === "fixed" && query.amount !== undefined)) throw invalidAmount();
    const shillings = BigInt(roundHalfUpToShillings(amount));
    if (shillings < QR_MIN_SHILLINGS || shillings > QR_MAX_SHILLINGS) throw invalidAmount();

    const paybill = config().MPESA_PAYBILL;
    const request = DynamicQrInput.parse({
      merchantName: found.name!.slice(0, 60),
      refNo: found.account!,
      amount,
      trxCode: "PB",
      cpi: paybill,
      size: query.size,
    });
    let result;
    try {
      result = await generateDynamicQr(request);
    } catch (err) {
      if (!(err instanceof ProviderUnavailableError)) throw err;
      log("warn", "mpesa dynamic qr unavailable", {
        requestId: c.get("requestId"),
        error: err.message,
      });
      throw new ApiError(
        502,
        "provider_unavailable",
        "M-Pesa could not be reached; try again later.",
      );
    }
    if (!result.ok) {
      log("warn", "mpesa dynamic qr refused", {
        requestId: c.get("requestId"),
        provider_code: result.code,
      });
      throw new ApiError(
        502,
        "mpesa_qr_rejected",
        "M-Pesa refused to generate the QR code; details name its reason.",
        { provider_code: result.code, provider_message: result.message },
      );
    }
    c.header("Content-Type", "image/png");
    c.header("Cache-Control", "private, no-store");
    c.header("X-Mpesa-Amount", result.amount);
    c.header("X-Mpesa-Account", found.account!);
    c.header("X-Mpesa-Paybill", paybill);
    if (result.requestId) c.header("X-Mpesa-Request-Id", result.requestId);
    return c.body(result.png as Uint8Array<ArrayBuffer>);
  });
}
