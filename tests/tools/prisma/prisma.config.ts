import { defineConfig, env } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

// Prisma 6.18/6.19 with the Wasm schema engine bundled in the CLI: Migrate runs through the
// driver adapter and needs no native schema-engine binary (Prisma 7 has no such mode).
// Migrations go over the direct host; the app's adapter uses the pooled one.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  async adapter() {
    return new PrismaPg({
      connectionString: process.env.POSTGRES_URL_NON_POOLING ?? env("MIGRATE_DATABASE_URL"),
    });
  },
});
