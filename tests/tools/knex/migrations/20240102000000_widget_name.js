exports.up = (knex) => knex.schema.alterTable("widgets", (t) => t.text("name"));
exports.down = (knex) => knex.schema.alterTable("widgets", (t) => t.dropColumn("name"));
