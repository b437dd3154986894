// The few HTML pages the auth function serves (mail-link pages, the development mailbox):
// escaping, one plain layout, and the headers every such page gets. No script runs on them,
// nothing loads from elsewhere, they cannot be framed, and their URLs (which carry tokens)
// are never sent on as a Referer or kept in a cache.
import type { Context } from "hono";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const STYLE =
  `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem;cursor:pointer}.note{color:#555;font-size:.9rem}
.error{color:#a00}.ok{color:#060}pre{white-space:pre-wrap;background:#f4f4f4;padding:.6rem;overflow-wrap:anywhere}
article{border-top:1px solid #ddd;padding:.6rem 0}`;

/** A whole page; `body` must already be escaped HTML. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${
    escapeHtml(title)
  } · Hazina</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** Answer with an HTML page and the headers every auth page carries. */
export function html(c: Context, content: string, status: 200 = 200): Response {
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  return c.html(content, status);
}
