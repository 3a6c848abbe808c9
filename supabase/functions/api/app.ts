// The `api` function: catalogue, AREAs, connections and runs (see DESIGN.md).
import { createApp } from "../_shared/app.ts";
import { databaseReachable } from "../_shared/db.ts";
import { errorBody } from "../_shared/errors.ts";

export const app = createApp("/api");

app.get("/health", async (c) => {
  if (await databaseReachable()) return c.json({ status: "ok", database: "ok" });
  return c.json(errorBody("database_unavailable", "The database is not reachable"), 503);
});
