import Config

if config_env() == :prod do
  config :fixture, Fixture.Repo, url: System.get_env("DATABASE_URL"), ssl: true
end
