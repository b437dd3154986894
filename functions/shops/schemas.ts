// Response shapes of the shops function, for its OpenAPI document. They are the shapes
// public.shop_json and public.product_json build (tests/functions/money-objects.test.ts
// keeps them equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const Shop = named(
  "Shop",
  z.object({
    id: z.guid(),
    object: z.literal("shop"),
    merchant_id: z.guid(),
    name: z.string(),
    slug: z.string().describe("The storefront's public address: GET /shops/{slug}."),
    description: z.string().nullable(),
    currency: z.string(),
    status: z.enum(["active", "suspended"]),
    escrow_policy: z.enum(["none", "optional", "required"]).describe(
      "none: orders pay the merchant; optional: the buyer chooses (`escrow` on POST /orders); required: every order is escrowed.",
    ),
    auto_release_days: z.number().int().describe(
      "An escrowed order is released to the merchant this many days after delivery unless the buyer disputes.",
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A merchant's shop: active (its storefront is public) or suspended (only its merchant sees it).",
);

export const Product = named(
  "Product",
  z.object({
    id: z.guid(),
    object: z.literal("product"),
    shop_id: z.guid(),
    name: z.string(),
    sku: z.string(),
    description: z.string().nullable(),
    price: Money,
    currency: z.string(),
    stock: z.number().int().nullable().describe("Units left to sell; null: unlimited."),
    unlimited: z.boolean(),
    active: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A product of a shop. Orders keep a snapshot of it (name, SKU, price) when placed.",
);
