// A free TCP port on loopback, for servers the tests start: the scripts' own helper, typed.
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { freePort as probe } from "../../scripts/free-port.mjs";

export const freePort: () => Promise<number> = probe;
