//! Raw serde types that mirror `neon-migrate.toml` key for key.
//!
//! They accept anything well-typed and check nothing else: values that need validation
//! (durations, templates, names) are `Spanned` strings so the validation pass can point at
//! them. Unknown keys are not rejected here (serde would stop at the first one); they are
//! collected through `serde_ignored` and reported together with every other problem. These
//! types never leave the config module.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub(crate) type S<T> = Spanned<T>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawConfig {
    pub version: Option<S<i64>>,
    pub neon_database_branch: Option<RawDbBranch>,
    pub provider: Option<RawProvider>,
    pub tool: Option<RawTool>,
    pub checks: Option<RawChecks>,
    #[serde(default)]
    pub stages: BTreeMap<String, RawStage>,
    #[serde(default)]
    pub pipelines: BTreeMap<String, RawPipeline>,
    pub apply: Option<RawApply>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawApply {
    pub git_branches: Option<Vec<S<String>>>,
    pub lock_wait: Option<S<String>>,
    pub lock_timeout: Option<S<String>>,
    pub statement_timeout: Option<S<String>>,
    pub retries: Option<S<i64>>,
    pub restore_point: Option<bool>,
    pub restore_point_ttl: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawDbBranch {
    pub name: Option<S<String>>,
    pub ttl: Option<S<String>>,
    pub lock_wait: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawProvider {
    pub kind: Option<S<String>>,
    pub url: Option<S<String>>,
    pub main_database: Option<S<String>>,
    pub data_dir: Option<S<String>>,
    pub busy_parent: Option<S<String>>,
    pub tool_role: Option<S<String>>,
    pub project_id: Option<S<String>>,
    pub api_key_env: Option<S<String>>,
    /// Never accepted: present only so its use gets a precise error.
    pub api_key: Option<S<toml::Value>>,
    pub api_host: Option<S<String>>,
    pub parent: Option<S<String>>,
    pub database: Option<S<String>>,
    pub role: Option<S<String>>,
    pub operation_timeout: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawTool {
    pub name: Option<S<String>>,
    pub migrations_dir: Option<S<String>>,
    pub working_dir: Option<S<String>>,
    pub command: Option<S<RawCommand>>,
    pub apply_command: Option<S<RawCommand>>,
    pub down_command: Option<S<RawCommand>>,
    pub print_sql_command: Option<S<RawCommand>>,
    pub model_check_command: Option<S<RawCommand>>,
    pub url_env: Option<Vec<S<String>>>,
    pub url_format: Option<S<String>>,
    pub url_driver: Option<S<String>>,
    pub user_env: Option<Vec<S<String>>>,
    pub password_env: Option<Vec<S<String>>>,
    pub drop_url_params: Option<Vec<S<String>>>,
    pub config_files: Option<Vec<S<String>>>,
    pub watch: Option<Vec<S<String>>>,
    pub tracking_query: Option<S<String>>,
    pub migration_files: Option<Vec<S<String>>>,
    pub timeout: Option<S<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, S<String>>,
}

impl RawTool {
    /// `self` (the project's keys) over `base` (a preset's): every key the project gives wins;
    /// `env` tables are merged key by key.
    pub fn over(self, base: RawTool) -> RawTool {
        let mut env = base.env;
        env.extend(self.env);
        RawTool {
            name: self.name.or(base.name),
            migrations_dir: self.migrations_dir.or(base.migrations_dir),
            working_dir: self.working_dir.or(base.working_dir),
            command: self.command.or(base.command),
            apply_command: self.apply_command.or(base.apply_command),
            down_command: self.down_command.or(base.down_command),
            print_sql_command: self.print_sql_command.or(base.print_sql_command),
            model_check_command: self.model_check_command.or(base.model_check_command),
            url_env: self.url_env.or(base.url_env),
            url_format: self.url_format.or(base.url_format),
            url_driver: self.url_driver.or(base.url_driver),
            user_env: self.user_env.or(base.user_env),
            password_env: self.password_env.or(base.password_env),
            drop_url_params: self.drop_url_params.or(base.drop_url_params),
            config_files: self.config_files.or(base.config_files),
            watch: self.watch.or(base.watch),
            tracking_query: self.tracking_query.or(base.tracking_query),
            migration_files: self.migration_files.or(base.migration_files),
            timeout: self.timeout.or(base.timeout),
            env,
        }
    }
}

/// A command is either one shell string or an argv array. Deserialized by hand (no
/// `untagged`) so the error says exactly which two shapes are accepted.
#[derive(Debug, Clone)]
pub(crate) enum RawCommand {
    Shell(String),
    Argv(Vec<String>),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawCommand;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a shell command string or an array of program and arguments")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Shell(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(item) = a.next_element::<String>()? {
                    argv.push(item);
                }
                Ok(RawCommand::Argv(argv))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawChecks {
    #[serde(default)]
    pub sql: Vec<RawSqlCheck>,
    pub schema: Option<RawSchemaCheck>,
    pub lint: Option<RawLintCheck>,
    pub locks: Option<RawLocksCheck>,
    pub data: Option<RawDataCheck>,
    pub reversible: Option<RawReversibleCheck>,
    pub workload: Option<crate::checks::workload::RawWorkloadConfig>,
    pub models: Option<RawModelsCheck>,
    pub integrity: Option<crate::checks::integrity::IntegrityConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawSchemaCheck {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
    pub deny: Option<Vec<S<String>>>,
    pub allow_migrations: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawLintCheck {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
    pub ignore: Option<Vec<S<String>>>,
    pub warn: Option<Vec<S<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawLocksCheck {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
    pub access_exclusive_budget: Option<S<String>>,
    pub write_lock_budget: Option<S<String>>,
    pub sample_interval: Option<S<String>>,
    #[serde(default)]
    pub tables: BTreeMap<String, S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawDataCheck {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
    pub exact_below: Option<S<i64>>,
    pub allow_loss: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawReversibleCheck {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawModelsCheck {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawSqlCheck {
    pub name: Option<S<String>>,
    pub query: Option<S<String>>,
    pub expect_rows: Option<S<i64>>,
    pub expect_value: Option<S<String>>,
    pub expect_true: Option<S<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawStage {
    pub kind: Option<S<String>>,
    pub run: Option<S<RawCommand>>,
    pub timeout: Option<S<String>>,
    pub always: Option<bool>,
    #[serde(default)]
    pub env: BTreeMap<String, S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RawPipeline {
    pub description: Option<String>,
    pub stages: Option<S<Vec<S<String>>>>,
}

/// The field names serde accepts for `T`, read from the derive itself so that the
/// "did you mean" list can never drift from the types above.
pub(crate) fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Capture<'a>(&'a mut &'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for Capture<'_> {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Capture(&mut fields));
    fields
}

/// Valid keys of the table at `path` (a list of keys from the document root; array indices
/// and user-chosen names are written as `*`).
pub(crate) fn known_keys(path: &[&str]) -> &'static [&'static str] {
    match path {
        [] => fields_of::<RawConfig>(),
        ["neon-database-branch"] => fields_of::<RawDbBranch>(),
        ["provider"] => fields_of::<RawProvider>(),
        ["tool"] => fields_of::<RawTool>(),
        ["checks"] => fields_of::<RawChecks>(),
        ["checks", "sql", "*"] => fields_of::<RawSqlCheck>(),
        ["apply"] => fields_of::<RawApply>(),
        ["checks", "schema"] => fields_of::<RawSchemaCheck>(),
        ["checks", "lint"] => fields_of::<RawLintCheck>(),
        ["checks", "locks"] => fields_of::<RawLocksCheck>(),
        ["checks", "data"] => fields_of::<RawDataCheck>(),
        ["checks", "reversible"] => fields_of::<RawReversibleCheck>(),
        ["checks", "workload"] => fields_of::<crate::checks::workload::RawWorkloadConfig>(),
        ["checks", "workload", "query", "*"] => fields_of::<crate::checks::workload::RawQuery>(),
        ["checks", "models"] => fields_of::<RawModelsCheck>(),
        ["checks", "integrity"] => fields_of::<crate::checks::integrity::IntegrityConfig>(),
        ["stages", "*"] => fields_of::<RawStage>(),
        ["pipelines", "*"] => fields_of::<RawPipeline>(),
        _ => &[],
    }
}
