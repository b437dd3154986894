// Shops and products: a merchant opens shops and lists products; storefronts (an active
// shop and its active products) are public, read without a token (RLS decides, exactly as
// supabase-js with the anon key would). Every rule is one SQL function
// (database/migrations/*_shops_orders.sql); the edge checks syntax and returns the shapes
// the database builds. See docs/commerce.md.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, bearerToken, requireUser } from "../_shared/auth.ts";
import { asUser, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { apiDocs, listOf, serveOpenApi } from "../_shared/openapi.ts";
import { pageOf, PageParams } from "../_shared/pagination.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";
import { Product, Shop } from "./schemas.ts";
import { createMiddleware } from "hono/factory";

export const app = createFunctionApp<UserEnv>("shops");
export const docs = apiDocs(
  "shops",
  "Shops",
  "Merchants' shops and products. Storefront reads (`GET /shops/{slug}`, `GET /shops/{slug}/products`) are public. " +
    "See docs/commerce.md.",
);
serveOpenApi(app, docs);

/**
 * A user's bearer token when one is sent (then it must be valid), else the request reads as
 * anon. supabase-js with no session sends its public anon key both as the bearer token and
 * as `apikey`: that is an anonymous caller too (it grants nothing beyond anon, so it needs
 * no verifying).
 */
const optionalUser = createMiddleware<{ Variables: AuthVariables & { requestId?: string } }>(
  async (c, next) => {
    const header = c.req.header("authorization");
    const anonKey = c.req.header("apikey");
    if (header && !(anonKey && bearerToken(header) === anonKey)) return await requireUser(c, next);
    await next();
  },
);

/** Run a public read as the caller: their token's user, or anon (RLS: active shops and products). */
function asCaller<T>(
  c: { var: { claims?: AuthVariables["claims"]; requestId: string } },
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return asUser(c.var.claims, c.var.requestId, fn);
}

const Slug = z.string().regex(
  /^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$/,
  "a slug is 1-60 lower-case letters, digits and inner hyphens",
);
const SHOP_NOT_FOUND = "Shop not found.";

// --- public storefront reads (before requireUser) -----------------------------------------

docs.route({
  method: "get",
  path: "/:shop",
  summary: "A shop's storefront (public)",
  description:
    "No token needed: anyone reads an active shop. Its merchant (with a token) also reads it suspended.",
  auth: "optional",
  params: z.object({
    shop: Slug.describe("The shop's slug (public reads address a shop by its slug)."),
  }),
  responses: { 200: { description: "The shop.", schema: Shop } },
  errors: ["shop_not_found"],
});
app.get("/:shop", optionalUser, async (c) => {
  const slug = Slug.parse(c.req.param("shop"));
  const [row] = await asCaller(
    c,
    (tx) => tx`select public.shop_json(s) as json from public.shops s where s.slug = ${slug}`,
  );
  if (!row) throw new ApiError(404, "shop_not_found", SHOP_NOT_FOUND);
  return c.json(row.json);
});

docs.route({
  method: "get",
  path: "/:shop/products",
  summary: "A shop's products, newest first (public, paged)",
  description:
    "No token needed: anyone reads the active products of an active shop. Its merchant (with a token) reads them all.",
  auth: "optional",
  params: z.object({
    shop: Slug.describe("The shop's slug (public reads address a shop by its slug)."),
  }),
  query: PageParams,
  responses: { 200: { description: "A page of products.", schema: listOf(Product) } },
  errors: ["shop_not_found"],
});
app.get("/:shop/products", optionalUser, async (c) => {
  const slug = Slug.parse(c.req.param("shop"));
  const params = PageParams.parse(c.req.query());
  return c.json(
    await asCaller(c, async (tx) => {
      const [shop] = await tx`select id from public.shops where slug = ${slug}`;
      if (!shop) throw new ApiError(404, "shop_not_found", SHOP_NOT_FOUND);
      const rows = await tx`
        select public.product_json(o) as json from public.products o
         where o.shop_id = ${shop.id}
           and ${
        params.cursor
          ? tx`(o.created_at, o.id) < (select created_at, id from public.products where id = ${params.cursor})`
          : tx`true`
      }
         order by o.created_at desc, o.id desc limit ${params.limit + 1}`;
      return pageOf(rows.map((r) => r.json as { id: string }), params.limit);
    }),
  );
});

app.use("*", requireUser);

// --- the merchant's ------------------------------------------------------------------------

const CreateShop = z.object({
  name: z.string().min(1).max(120),
  slug: Slug,
  currency: Currency.default("KES"),
  escrow_policy: z.enum(["none", "optional", "required"]).default("optional"),
  auto_release_days: z.number().int().min(1).max(60).default(7),
  description: z.string().max(2000).nullable().optional(),
}).strict();

docs.route({
  method: "post",
  path: "/",
  summary: "Open a shop (merchant)",
  description:
    "Only merchants open shops. The slug is the storefront's public address and unique. " +
    "The merchant needs an active merchant wallet in the shop's currency to be paid.",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateShop,
  bodyExample: {
    name: "Duka la Mama",
    slug: "duka-la-mama",
    escrow_policy: "optional",
    auto_release_days: 7,
  },
  responses: { 201: { description: "The shop.", schema: Shop } },
  errors: ["shop_merchants_only", "shop_slug_taken", "currency_not_supported", "invalid_argument"],
});
app.post("/", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const input = CreateShop.parse(await c.req.json());
  const [row] = await userTx(
    c,
    (tx) =>
      tx`select public.shop_create(${input.name}, ${input.slug}, ${input.currency}, ${input.escrow_policy},
                                   ${input.auto_release_days}::integer, ${
        input.description ?? null
      }) as shop`,
  );
  return c.json(row.shop, 201);
});

const UpdateShop = z.object({
  name: z.string().min(1).max(120).optional(),
  slug: Slug.optional(),
  description: z.string().max(2000).nullable().optional(),
  status: z.enum(["active", "suspended"]).optional(),
  escrow_policy: z.enum(["none", "optional", "required"]).optional(),
  auto_release_days: z.number().int().min(1).max(60).optional(),
}).strict();

docs.route({
  method: "patch",
  path: "/:shop",
  summary: "Change a shop (its merchant)",
  description:
    "Name, slug, description, status (`suspended` hides the storefront and stops new orders), escrow policy, " +
    "auto-release days. The currency cannot change. Orders already placed keep what they were placed with.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({
    shop: Uuid.describe("The shop's id (the merchant's calls address it by id)."),
  }),
  body: UpdateShop,
  bodyExample: { status: "suspended" },
  responses: { 200: { description: "The shop.", schema: Shop } },
  errors: ["shop_not_found", "shop_slug_taken", "invalid_argument"],
});
app.patch("/:shop", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("shop"));
  const input = UpdateShop.parse(await c.req.json());
  const [row] = await userTx(
    c,
    (tx) => tx`select public.shop_update(${id}, ${tx.json(input as never)}::jsonb) as shop`,
  );
  return c.json(row.shop);
});

const CreateProduct = z.object({
  name: z.string().min(1).max(200),
  sku: z.string().regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "letters, digits and . _ -, at most 64",
  ),
  price: Amount,
  stock: z.number().int().min(0).max(1_000_000_000).nullable().default(null).describe(
    "Units to sell; null (the default): unlimited.",
  ),
  active: z.boolean().default(true),
  description: z.string().max(2000).nullable().optional(),
}).strict();

docs.route({
  method: "post",
  path: "/:shop/products",
  summary: "Add a product to a shop (its merchant)",
  description: "The price is in the shop's currency, with its decimals. Stock null is unlimited.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({
    shop: Uuid.describe("The shop's id (the merchant's calls address it by id)."),
  }),
  body: CreateProduct,
  bodyExample: { name: "Sugar 1kg", sku: "SUGAR-1", price: "150.00", stock: 100 },
  responses: { 201: { description: "The product.", schema: Product } },
  errors: ["shop_not_found", "product_sku_taken", "invalid_amount", "invalid_argument"],
});
app.post("/:shop/products", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("shop"));
  const input = CreateProduct.parse(await c.req.json());
  const [row] = await userTx(
    c,
    (tx) =>
      tx`select public.product_create(${id}, ${input.name}, ${input.sku}, ${input.price}::numeric,
                                      ${input.stock}::integer, ${input.active}, ${
        input.description ?? null
      }) as product`,
  );
  return c.json(row.product, 201);
});

const UpdateProduct = z.object({
  name: z.string().min(1).max(200).optional(),
  sku: z.string().regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "letters, digits and . _ -, at most 64",
  )
    .optional(),
  price: Amount.optional(),
  stock: z.number().int().min(0).max(1_000_000_000).nullable().optional(),
  active: z.boolean().optional(),
  description: z.string().max(2000).nullable().optional(),
}).strict();

docs.route({
  method: "patch",
  path: "/:shop/products/:product_id",
  summary: "Change a product (its merchant)",
  description:
    "Orders already placed keep their snapshot. Setting stock sets the units left to sell (null: unlimited).",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ shop: Uuid.describe("The shop's id."), product_id: Uuid }),
  body: UpdateProduct,
  bodyExample: { price: "160.00", stock: 50 },
  responses: { 200: { description: "The product.", schema: Product } },
  errors: [
    "shop_not_found",
    "product_not_found",
    "product_sku_taken",
    "invalid_amount",
    "invalid_argument",
  ],
});
app.patch(
  "/:shop/products/:product_id",
  idempotent({ required: true, oneTransaction: true }),
  async (c) => {
    const id = Uuid.parse(c.req.param("shop"));
    const productId = Uuid.parse(c.req.param("product_id"));
    const input = UpdateProduct.parse(await c.req.json());
    const [row] = await userTx(
      c,
      (tx) =>
        tx`select public.product_update(${id}, ${productId}, ${
          tx.json(input as never)
        }::jsonb) as product`,
    );
    return c.json(row.product);
  },
);
