import { defineConfig } from "drizzle-kit";

// The URL variable is the project's own name: neon-migrate sets it because this file reads it.
export default defineConfig({
  dialect: "postgresql",
  schema: "./schema.ts",
  out: "./drizzle",
  dbCredentials: { url: process.env.APP_DB_URL! },
});
