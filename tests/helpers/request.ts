// One way to build a test's request, in-process (`app.request`) or over real HTTP (`fetch`):
// an optional Bearer token, a JSON body (a string is sent as it is, for malformed bodies),
// extra headers such as the Idempotency-Key, which win over the defaults.

export type HeaderMap = Record<string, string>;

/** A caller of one app or server: (token, method, path, body?, headers?) → Response. */
export type Caller = (token: string | undefined, method: string, path: string, body?: unknown, headers?: HeaderMap) => Promise<Response>;

// deno-lint-ignore no-explicit-any -- response bodies are asserted field by field in the tests
export type Json = any;

export function requestInit(method: string, token?: string, body?: unknown, headers: HeaderMap = {}): RequestInit {
  return {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** Calls one function's app in-process; `base` is its base path, e.g. "/wallets". */
export function appCaller(app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> }, base: string): Caller {
  return async (token, method, path, body, headers) => await app.request(`${base}${path}`, requestInit(method, token, body, headers));
}

/** Calls a real server; `base` is read at each call (servers start in beforeAll). */
export function httpCaller(base: () => string): Caller {
  return (token, method, path, body, headers) => fetch(`${base()}${path}`, requestInit(method, token, body, headers));
}

/** Status, headers and the body parsed as JSON when it is JSON (else the text, or null when empty). */
export async function readResponse(res: Response): Promise<{ status: number; body: Json; headers: Headers }> {
  const text = await res.text();
  let body: Json = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

/** A fresh Idempotency-Key. */
export const idempotencyKey = (): string => `test-${crypto.randomUUID()}`;
