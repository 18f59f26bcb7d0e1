// The URL variable is the project's own name: neon-migrate sets it because this file reads it.
module.exports = {
  client: "pg",
  connection: process.env.KNEX_DATABASE_URL,
  migrations: { directory: "./migrations" },
};
