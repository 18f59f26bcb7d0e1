exports.up = (pgm) => {
  pgm.createTable("widgets", { id: "id" });
};
exports.down = (pgm) => {
  pgm.dropTable("widgets");
};
