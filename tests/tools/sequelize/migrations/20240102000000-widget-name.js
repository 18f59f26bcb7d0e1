"use strict";
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn("widgets", "name", { type: Sequelize.TEXT });
  },
  async down(queryInterface) {
    await queryInterface.removeColumn("widgets", "name");
  },
};
