module.exports = class WidgetName1704153600000 {
  name = "WidgetName1704153600000";
  async up(queryRunner) {
    await queryRunner.query(`ALTER TABLE "widgets" ADD "name" text`);
  }
  async down(queryRunner) {
    await queryRunner.query(`ALTER TABLE "widgets" DROP COLUMN "name"`);
  }
};
