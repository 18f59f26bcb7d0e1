import "dotenv/config";
import { defineConfig, env } from "prisma/config";

// Migrations go over the direct host; the app's adapter uses the pooled one.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.POSTGRES_URL_NON_POOLING ?? env("MIGRATE_DATABASE_URL") },
});
