defmodule Fixture.Repo.Migrations.CreateWidgets do
  use Ecto.Migration

  def change do
    create table(:widgets)
  end
end
