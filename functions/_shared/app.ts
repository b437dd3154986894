// Every edge function starts from createFunctionApp(name): request id, access log (secrets
// redacted), security headers, CORS, body size limit, and the one error handler. Supabase routes /functions/v1/<name>/* to a
// function with the path /<name>/*, hence the base path.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import { config } from "./config.ts";
import { ApiError, fromDatabaseError } from "./errors.ts";
import { log, logs } from "./log.ts";
import { redactPath } from "./redact.ts";

export type AppEnv = { Variables: { requestId: string } };

const REQUEST_ID = /^[A-Za-z0-9_.:-]{8,128}$/;

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) {
    return new ApiError(400, "validation_failed", "The request is invalid.", {
      fields: err.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    });
  }
  if (err instanceof HTTPException) {
    if (err.status === 413) {
      return new ApiError(413, "payload_too_large", "The request body is too large.");
    }
    return new ApiError(
      err.status as ApiError["status"],
      "http_error",
      err.message || "Request failed.",
    );
  }
  if (err instanceof SyntaxError) {
    return new ApiError(400, "invalid_json", "The body is not valid JSON.");
  }
  return fromDatabaseError(err) ??
    new ApiError(500, "internal_error", "Something went wrong on our side. It has been logged.");
}

export function createFunctionApp<E extends AppEnv = AppEnv>(name: string): Hono<E> {
  const cfg = config();
  const app = new Hono<E>().basePath(`/${name}`);

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    // Every response: no MIME sniffing, and nothing cached unless a route says it may be
    // (bodies carry tokens, balances and statements; only public documents opt in).
    c.header("X-Content-Type-Options", "nosniff");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
    // The access line's fields (the redacted path) are built only when info is logged.
    if (logs("info")) {
      log("info", "request", {
        function: name,
        request_id: requestId,
        method: c.req.method,
        // Never the raw path: Daraja callback URLs end in their secret token (redact.ts).
        path: redactPath(c.req.path),
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      });
    }
  });
  app.use(
    "*",
    cors({
      origin: cfg.CORS_ORIGINS === "*" ? "*" : cfg.CORS_ORIGINS.split(",").map((o) => o.trim()),
      allowHeaders: [
        "Authorization",
        "Content-Type",
        "Idempotency-Key",
        "X-Request-Id",
        "apikey",
        "x-client-info",
      ],
      exposeHeaders: ["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
    }),
  );
  app.use(
    "*",
    bodyLimit({
      maxSize: cfg.BODY_LIMIT_BYTES,
      onError: () => {
        throw new ApiError(413, "payload_too_large", "The request body is too large.");
      },
    }),
  );

  app.onError((err, c) => {
    const apiError = toApiError(err);
    if (apiError.code === "database_unavailable") {
      // An outage, not a bug: one warning per refused request, without a stack.
      log("warn", "database unavailable", {
        function: name,
        request_id: c.get("requestId"),
        error: String((err as Error)?.message ?? err),
      });
    } else if (apiError.status >= 500) {
      log("error", "unhandled error", {
        function: name,
        request_id: c.get("requestId"),
        error: err instanceof Error
          ? { name: err.name, message: err.message, stack: err.stack }
          : String(err),
      });
    }
    const retryAfter = apiError.details?.retry_after_seconds;
    if (typeof retryAfter === "number") c.header("Retry-After", String(retryAfter));
    return c.json(apiError.toJSON(), apiError.status);
  });
  app.notFound((c) =>
    c.json(new ApiError(404, "route_not_found", "No such endpoint.").toJSON(), 404)
  );
  return app;
}
