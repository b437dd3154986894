// A complete HAZINA_ENV=production environment (every provider setting real-looking, not the
// sandbox's), for suites that check what production allows. Add new production
// requirements here, so every such suite keeps starting.
import { SANDBOX_DEFAULTS } from "../../functions/_shared/sandbox-defaults.ts";

/** Non-sandbox values for every provider setting, valid for config.ts. */
function providerValues(): Record<string, string> {
  return Object.fromEntries(Object.keys(SANDBOX_DEFAULTS).map((name) => {
    if (name.endsWith("_BASE_URL")) return [name, `https://${name.split("_")[0].toLowerCase()}.provider.example`];
    if (/SHORTCODE|PAYBILL/.test(name)) return [name, "512345"];
    return [name, `production-${name.toLowerCase().replaceAll("_", "-")}-0123456789`];
  }));
}

/** Environment overrides for a valid production configuration; `mail: false` leaves SMTP out. */
export function productionEnv(opts: { mail?: boolean } = {}): Record<string, string> {
  return {
    HAZINA_ENV: "production",
    JWT_SECRET: "production-jwt-secret-0123456789abcdef-0123456789",
    PUBLIC_FUNCTIONS_URL: "https://api.hazina.example/functions/v1",
    CORS_ORIGINS: "https://app.hazina.example",
    MPESA_CALLBACK_ALLOWED_IPS: "196.201.214.0/24",
    ...providerValues(),
    ...(opts.mail === false ? {} : { SMTP_URL: "smtps://mailer:password@smtp.hazina.example:465", MAIL_FROM: "Hazina <no-reply@hazina.example>" }),
  };
}
