require("reflect-metadata");
const { DataSource } = require("typeorm");

// The URL variable is the project's own name: neon-migrate sets it because this file reads it.
exports.AppDataSource = new DataSource({
  type: "postgres",
  url: process.env.TYPEORM_DATABASE_URL,
  migrations: [__dirname + "/migrations/*.js"],
});
