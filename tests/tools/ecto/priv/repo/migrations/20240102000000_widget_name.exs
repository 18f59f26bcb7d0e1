defmodule Fixture.Repo.Migrations.WidgetName do
  use Ecto.Migration

  def change do
    alter table(:widgets), do: add(:name, :text)
  end
end
