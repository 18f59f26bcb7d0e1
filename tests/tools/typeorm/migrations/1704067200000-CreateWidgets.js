module.exports = class CreateWidgets1704067200000 {
  name = "CreateWidgets1704067200000";
  async up(queryRunner) {
    await queryRunner.query(`CREATE TABLE "widgets" ("id" SERIAL PRIMARY KEY)`);
  }
  async down(queryRunner) {
    await queryRunner.query(`DROP TABLE "widgets"`);
  }
};
