// Sandbox scenarios: what happens to a request, chosen per phone number / account number:
// set with POST /__sandbox/scenarios {"match": "254712345678", "scenario": "cancelled"} (or
// setScenario() in-process), else by the identifier's last four digits (handy by hand),
// else "success":
//   …1032 cancelled        STK ResultCode 1032 "Request cancelled by user" / bank CANCELLED
//   …4444 fail             STK ResultCode 1 (insufficient balance) / B2C 2001 / bank failure
//   …0000 timeout          no callback at all (STK query then answers 1037; B2C calls the
//                          QueueTimeOutURL and Transaction Status says it never happened)
//   …2222 duplicate        the success callback is delivered twice
//   …5555 silent_success   paid, but the callback is lost (only a status query tells)
//   …3333 lost_response    paid (STK: and called back; B2C: no callback), but our request sees a gateway
//                          error (HTTP 504), so we never learn the checkout id
//   …6666 early_callback   the callback is delivered before the request is answered
//   …7777 reversed         (payouts) paid, then reversed by the provider
//   …9999 reject           the request is refused synchronously (HTTP 400)
//   …8888 unavailable      the provider answers HTTP 503
export type Scenario =
  | "success"
  | "cancelled"
  | "fail"
  | "timeout"
  | "duplicate"
  | "silent_success"
  | "lost_response"
  | "early_callback"
  | "reversed"
  | "reject"
  | "unavailable";

export const SUFFIXES: Record<string, Scenario> = {
  "1032": "cancelled",
  "4444": "fail",
  "0000": "timeout",
  "2222": "duplicate",
  "5555": "silent_success",
  "3333": "lost_response",
  "6666": "early_callback",
  "7777": "reversed",
  "9999": "reject",
  "8888": "unavailable",
};

/** The scenarios set so far, and the rule that picks one for an identifier. */
export function createScenarios() {
  const scenarios = new Map<string, Scenario>();
  return {
    set: (match: string, scenario: Scenario) => void scenarios.set(match, scenario),
    clear: () => scenarios.clear(),
    for: (identifier: string): Scenario =>
      scenarios.get(identifier) ?? SUFFIXES[identifier.slice(-4)] ?? "success",
  };
}
