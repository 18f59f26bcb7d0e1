exports.up = (pgm) => {
  pgm.addColumn("widgets", { name: { type: "text" } });
};
exports.down = (pgm) => {
  pgm.dropColumn("widgets", "name");
};
