class CreateWidgets < ActiveRecord::Migration[8.0]
  def change
    create_table :widgets
  end
end
