// QR payment links: a merchant's codes (create, list, change, disable) and their images.
// Every transition is one SQL function (database/migrations/*_qr_codes.sql); the images are
// public (anyone with the slug may print the code) and encode the hosted checkout page
// (functions/checkout). See docs/checkout.md.
import QRCode from "qrcode";
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { requireUser } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { apiDocs, listOf, serveOpenApi } from "../_shared/openapi.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";
import { mpesaQrRoutes } from "./mpesa.ts";
import { QR_STATUSES, QrCode, QrCodeWithLinks } from "./schemas.ts";

export const app = createFunctionApp<UserEnv>("qr-codes");
export const docs = apiDocs(
  "qr-codes",
  "QR payment links",
  "A merchant's QR codes (static: the payer types the amount; fixed: a set amount), their public PNG and " +
    "SVG images encoding the hosted checkout page, and their limits (expiry, uses). See docs/checkout.md.",
);
serveOpenApi(app, docs);

const QR_CODE = { table: "qr_codes", json: "qr_code_json" };

/** Where a code's checkout page and images live (PUBLIC_FUNCTIONS_URL: what a phone reaches). */
export function qrLinks(slug: string): { url: string; png_url: string; svg_url: string } {
  const base = config().PUBLIC_FUNCTIONS_URL;
  return {
    url: `${base}/checkout/${slug}`,
    png_url: `${base}/qr-codes/${slug}.png`,
    svg_url: `${base}/qr-codes/${slug}.svg`,
  };
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/**
 * The code as SVG: error correction H (30% of the symbol may be damaged or covered), the
 * standard 4-module quiet zone, and the label (when given) printed under it.
 */
export async function qrSvg(text: string, label: string | null): Promise<string> {
  const svg = await QRCode.toString(text, { type: "svg", errorCorrectionLevel: "H", margin: 4 });
  if (!label) return svg;
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  const inner = svg.replace(/^<svg[^>]*>/, "").replace(/<\/svg>\s*$/, "");
  const escaped = label.replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch]);
  const height = size + 4;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${height}" shape-rendering="crispEdges">` +
    `<rect width="${size}" height="${height}" fill="#ffffff"/>${inner}` +
    `<text x="${size / 2}" y="${size + 1.5}" font-family="system-ui,sans-serif" font-size="2.2" ` +
    `text-anchor="middle" fill="#000000">${escaped}</text></svg>`;
}

/** The code as PNG (error correction H, quiet zone of 4 modules), `width` pixels square. */
export async function qrPng(text: string, width: number): Promise<Uint8Array> {
  const buffer = await QRCode.toBuffer(text, {
    type: "png",
    errorCorrectionLevel: "H",
    margin: 4,
    width,
  });
  return new Uint8Array(buffer);
}

// --- public: the images ------------------------------------------------------------------

const ImageFile = z.string().regex(
  /^[a-z2-7]{26}\.(png|svg)$/,
  "a code's slug followed by .png or .svg",
);
const ImageQuery = z.object({
  size: z.coerce.number().int().min(128).max(2048).default(512)
    .describe("PNG width and height in pixels."),
  label: z.enum(["true", "false"]).default("true").describe(
    "SVG: print the code's label under it.",
  ),
}).strict();

docs.route({
  method: "get",
  path: "/:id",
  summary: "One of my QR codes by id, or any code's image: <slug>.png or <slug>.svg (public)",
  description:
    "With a code's id (a UUID) and the merchant's token or API key: the code. With `<slug>.png` or " +
    "`<slug>.svg`, no token needed: the image, encoding the code's checkout page URL at error correction H. " +
    "The SVG prints the label under the code (`label=false` leaves it out); the PNG is the code alone, `size` " +
    "pixels square. Any code that exists renders (a disabled or expired one still leads to its page, which " +
    "says so); images are cacheable for a day.",
  auth: "optional",
  params: z.object({
    id: z.string().describe("A code's id, or its slug followed by .png or .svg."),
  }),
  query: ImageQuery,
  responses: {
    200: {
      description: "The code (JSON), or its image.",
      schema: QrCodeWithLinks,
      alternatives: {
        "image/png": { schema: { type: "string", format: "binary" } },
        "image/svg+xml": { schema: { type: "string" } },
      },
    },
  },
  errors: ["qr_code_not_found"],
});
app.get("/:id", async (c) => {
  const ref = c.req.param("id");
  const file = ImageFile.safeParse(ref);
  if (!file.success) {
    // A code by id: the merchant's own (requireUser, then RLS).
    const id = Uuid.safeParse(ref);
    if (!id.success) throw new ApiError(404, "qr_code_not_found", "QR code not found.");
    await requireUser(c as unknown as Parameters<typeof requireUser>[0], async () => {});
    const code = await userTx(c, async (tx) => {
      const [r] =
        await tx`select public.qr_code_json(q) as code from public.qr_codes q where q.id = ${id.data}`;
      return r?.code as Record<string, unknown> | undefined;
    });
    if (!code) throw new ApiError(404, "qr_code_not_found", "QR code not found.");
    return c.json(withLinks(code));
  }
  const [slug, ext] = file.data.split(".");
  const query = ImageQuery.parse(c.req.query());
  const code = await asUser(undefined, c.get("requestId"), async (tx) => {
    const [r] = await tx`select public.qr_code_resolve(${slug}) as code`;
    return r.code as { label?: string | null } | null;
  });
  if (!code) throw new ApiError(404, "qr_code_not_found", "QR code not found.");
  const { url } = qrLinks(slug);
  c.header("Cache-Control", "public, max-age=86400");
  if (ext === "svg") {
    c.header("Content-Type", "image/svg+xml; charset=utf-8");
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    return c.body(await qrSvg(url, query.label === "true" ? code.label ?? null : null));
  }
  c.header("Content-Type", "image/png");
  return c.body(await qrPng(url, query.size) as Uint8Array<ArrayBuffer>);
});

// --- the merchant's codes ----------------------------------------------------------------

app.use("*", requireUser);

const CreateQrCode = z.object({
  // Invoice and order codes are made by those objects (at finalise / placing); an intent code
  // binds one of the merchant's intents (docs/checkout.md).
  kind: z.enum(["static", "fixed", "intent"]),
  payment_intent_id: Uuid.optional().describe(
    "An intent code's intent: the merchant's own, still requires_confirmation, of no invoice or order.",
  ),
  label: z.string().min(1).max(100).optional(),
  amount: Amount.optional(),
  currency: Currency.default("KES"),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  max_uses: z.number().int().min(1).max(1_000_000).optional(),
}).strict();

/** The code's shape with its links, as create and change answer it. */
function withLinks(code: Record<string, unknown>): Record<string, unknown> {
  return { ...code, ...qrLinks(code.slug as string) };
}

docs.route({
  method: "post",
  path: "/",
  summary: "Create a QR code (merchant or API key)",
  description:
    "`static`: the payer types the amount; `fixed`: `amount` is paid. Optional `expires_at` and `max_uses` " +
    "(each successful payment is one use). `intent`: `payment_intent_id`, one of the merchant's intents still " +
    "`requires_confirmation` and of no invoice, order or plan; the code's amount and currency are the intent's " +
    "(send no `amount`) and the checkout page pays that intent. Invoice and order codes are made by the invoice " +
    "(at finalising) and the order (at placing). The Idempotency-Key is the code's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateQrCode,
  bodyExample: { kind: "fixed", label: "Chai and mandazi", amount: "150.00", max_uses: 1 },
  responses: {
    200: {
      description: "Replayed: the code this Idempotency-Key created.",
      schema: QrCodeWithLinks,
    },
    201: { description: "Created.", schema: QrCodeWithLinks },
  },
  errors: [
    "qr_codes_merchants_only",
    "merchant_wallet_required",
    "currency_not_supported",
    "payment_intent_not_found",
    "intent_not_confirmable",
    "qr_code_intent_has_subject",
    "invalid_amount",
    "invalid_argument",
    "invalid_ref",
    "ref_conflict",
  ],
});
app.post("/", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const input = CreateQrCode.parse(await c.req.json());
  if ((input.kind === "intent") !== (input.payment_intent_id !== undefined)) {
    throw new ApiError(
      400,
      "invalid_argument",
      "payment_intent_id is for intent codes, and required for them.",
      {
        field: "payment_intent_id",
      },
    );
  }
  const row = await userTx(c, async (tx) => {
    const [r] = await tx`select public.qr_code_create(${input.kind}, ${input.label ?? null},
      ${input.amount ?? null}::numeric, ${input.kind === "intent" ? null : input.currency},
      ${input.payment_intent_id ?? null}::uuid,
      ${input.expires_at ?? null}::timestamptz, ${input.max_uses ?? null}::integer,
      ${c.get("idempotencyKey")!}) as code`;
    return r.code as Record<string, unknown>;
  });
  const { created, ...code } = row;
  return c.json(withLinks(code), created ? 201 : 200);
});

const QrList = PageParams.extend({
  status: z.enum(QR_STATUSES).optional(),
  subject_id: Uuid.optional().describe(
    "Only the code bound to this invoice or order (made at finalisation / placing).",
  ),
}).strict();

docs.route({
  method: "get",
  path: "/",
  summary: "List my QR codes, newest first",
  auth: "bearer",
  query: QrList,
  responses: { 200: { description: "A page of QR codes.", schema: listOf(QrCode) } },
  errors: [],
});
app.get("/", async (c) => {
  const params = QrList.parse(c.req.query());
  return c.json(
    await userTx(c, (tx) =>
      pageNewestFirst(
        tx,
        QR_CODE,
        params,
        params.status && params.subject_id
          ? tx`o.status = ${params.status} and o.subject_id = ${params.subject_id}`
          : params.status
          ? tx`o.status = ${params.status}`
          : params.subject_id
          ? tx`o.subject_id = ${params.subject_id}`
          : undefined,
      )),
  );
});

const UpdateQrCode = z.object({
  label: z.string().min(1).max(100).optional(),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional()
    .describe("null removes the expiry."),
  max_uses: z.number().int().min(1).max(1_000_000).nullable().optional()
    .describe("null removes the limit."),
  status: z.enum(["active", "disabled"]).optional(),
}).strict();

docs.route({
  method: "patch",
  path: "/:id",
  summary: "Change a QR code: label, expiry, use limit, active or disabled",
  description:
    "After the change the status follows the limits: a code at its use limit is `exhausted`, one past its " +
    "expiry `expired`; re-enabling a code with room left makes it `active` again.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: UpdateQrCode,
  bodyExample: { max_uses: 10, status: "active" },
  responses: { 200: { description: "The code.", schema: QrCodeWithLinks } },
  errors: ["qr_code_not_found", "invalid_argument"],
});
app.patch("/:id", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = UpdateQrCode.parse(await c.req.json());
  const code = await userTx(c, async (tx) => {
    const [r] = await tx`select public.qr_code_update(${id}, ${input.label ?? null},
      ${input.expires_at ?? null}::timestamptz, ${input.expires_at === null},
      ${input.max_uses ?? null}::integer, ${input.max_uses === null}, ${
      input.status ?? null
    }) as code`;
    return r.code as Record<string, unknown>;
  });
  return c.json(withLinks(code));
});

docs.route({
  method: "delete",
  path: "/:id",
  summary: "Disable a QR code",
  description:
    "New payments are refused (`qr_code_disabled`); payments already under way finish. Disabling again " +
    "changes nothing; PATCH `status: active` re-enables it.",
  auth: "bearer",
  idempotencyKey: "optional",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The code, now `disabled`.", schema: QrCodeWithLinks } },
  errors: ["qr_code_not_found"],
});
app.delete("/:id", idempotent({ required: false, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const code = await userTx(c, async (tx) => {
    const [r] = await tx`select public.qr_code_disable(${id}) as code`;
    return r.code as Record<string, unknown>;
  });
  return c.json(withLinks(code));
});

mpesaQrRoutes(app, docs); // GET /:id/mpesa: the code as a Daraja Dynamic QR
