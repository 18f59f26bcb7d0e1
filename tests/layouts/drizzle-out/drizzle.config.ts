import { defineConfig } from "drizzle-kit";

// The migrations are not in ./drizzle: neon-migrate must read `out` to watch and count them.
export default defineConfig({
  dialect: "postgresql",
  schema: "./lib/db/schema.ts",
  out: "./lib/db/migrations",
  dbCredentials: { url: process.env.APP_DB_URL! },
});
