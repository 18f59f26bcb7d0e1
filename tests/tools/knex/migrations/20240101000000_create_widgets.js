exports.up = (knex) => knex.schema.createTable("widgets", (t) => t.increments("id"));
exports.down = (knex) => knex.schema.dropTable("widgets");
