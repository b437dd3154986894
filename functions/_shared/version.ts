// The newest migration this code expects. A test keeps it equal to the newest file in
// database/migrations, so `GET /health` can tell operators whether migrations are current.
export const EXPECTED_SCHEMA_VERSION = "20261124001970";
export const HAZINA_VERSION = "0.1.0";
