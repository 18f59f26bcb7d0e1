//! `neon-migrate diff` and `neon-migrate generate`: the schema engine on the command line.
//!
//! `generate` is the fallback for repositories without a migration system: the desired
//! schema (`schema.sql`) is loaded into a scratch database, the main Neon database branch
//! plus the pending migrations is loaded into a test Neon database branch, and the plan
//! between them becomes the next file for the built-in `sql` tool. Destructive plans need
//! `--allow-destructive`.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::cli::open_provider;
use crate::config::{self, Config};
use crate::exit;
use crate::git::GitInfo;
use crate::pg::{self, ident};
use crate::providers::local::{local_db_name, LocalProvider};
use crate::providers::CreateRequest;
use crate::schema::{self, Model, PlanOptions};
use crate::secret::{Redactor, Secret};

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Sql,
    Json,
    Markdown,
}

fn fail(redactor: &Redactor, message: &str, help: Option<&str>) -> i32 {
    eprintln!("error: {}", redactor.redact(message));
    if let Some(h) = help {
        eprintln!("  help: {h}");
    }
    exit::PROVIDER
}

/// A scratch database on the embedded (or configured local) server, dropped on `finish`.
struct Scratch {
    provider: LocalProvider,
    name: String,
}

impl Scratch {
    async fn load_sql(
        config: &Config,
        file: &Path,
        redactor: &Redactor,
    ) -> Result<(Scratch, Model), String> {
        let sql = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let local = match &config.provider {
            config::ProviderConfig::Local(l) => l.clone(),
            // A Neon project has no scratch server of ours: use the embedded one.
            config::ProviderConfig::Neon(_) => config::LocalConfig {
                url: None,
                main_database: Some(crate::providers::local::role::default_main_database(
                    &config.root,
                )),
                data_dir: None,
                busy_parent: config::BusyParent::Fail,
                tool_role: config::ToolRole::default(),
            },
        };
        let url = match &local.url {
            Some(t) => Some(crate::template::render(
                t,
                &crate::engine::base_vars(&crate::cli::empty_git(), ""),
            )?),
            None => None,
        };
        let provider = LocalProvider::open(&local, url, redactor)
            .await
            .map_err(|e| e.message)?;
        let name = local_db_name(&format!(
            "neon_migrate_scratch_{}_{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        ));
        let admin = provider.admin().await.map_err(|e| e.message)?;
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                ident(&name)
            ))
            .await
            .map_err(|e| pg::describe(&e))?;
        let scratch = Scratch { provider, name };
        let client = pg::connect(&scratch.provider.url_of(&scratch.name))
            .await
            .map_err(|e| e.message)?;
        if let Err(e) = client.batch_execute(&sql).await {
            scratch.finish().await;
            return Err(format!(
                "{} does not load: {}",
                file.display(),
                pg::describe(&e)
            ));
        }
        let model = schema::introspect(&client, &schema::default_excluded())
            .await
            .map_err(|e| e.message);
        drop(client);
        match model {
            Ok(m) => Ok((scratch, m)),
            Err(e) => {
                scratch.finish().await;
                Err(e)
            }
        }
    }

    async fn finish(self) {
        if let Ok(admin) = self.provider.admin().await {
            let _ = admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(&self.name)
                ))
                .await;
        }
    }
}

/// Introspects a source: a URL, `main`, a `.sql` file, or a Neon database branch name.
async fn load(
    source: &str,
    config: &Config,
    redactor: &Redactor,
) -> Result<(Model, Option<Scratch>, Option<tokio_postgres::Client>), String> {
    if source.ends_with(".sql") {
        let path = config.root.join(source);
        let path = if Path::new(source).is_absolute() {
            PathBuf::from(source)
        } else if path.exists() {
            path
        } else {
            PathBuf::from(source)
        };
        let (s, m) = Scratch::load_sql(config, &path, redactor).await?;
        return Ok((m, Some(s), None));
    }
    let url = if source.starts_with("postgres://") || source.starts_with("postgresql://") {
        redactor.add_url(source);
        Secret::new(source.to_owned())
    } else {
        let provider = open_provider(config, redactor)
            .await
            .map_err(|e| e.message)?;
        if source == "main" {
            provider.main_db_branch().await.map_err(|e| e.message)?.url
        } else {
            match &config.provider {
                config::ProviderConfig::Local(l) => {
                    let url = l
                        .url
                        .as_ref()
                        .map(|t| {
                            crate::template::render(
                                t,
                                &crate::engine::base_vars(&crate::cli::empty_git(), ""),
                            )
                        })
                        .transpose()?;
                    let local = LocalProvider::open(l, url, redactor)
                        .await
                        .map_err(|e| e.message)?;
                    let db = local_db_name(source);
                    let admin = local.admin().await.map_err(|e| e.message)?;
                    let exists = admin
                        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&db])
                        .await
                        .map_err(|e| pg::describe(&e))?
                        .is_some();
                    if !exists {
                        return Err(format!("no Neon database branch (database) named `{source}`: use a URL, `main`, a .sql file, or an existing Neon database branch"));
                    }
                    local.url_of(&db)
                }
                config::ProviderConfig::Neon(_) => {
                    return Err(format!("`{source}`: naming a Neon database branch other than `main` is not supported with the neon provider yet; pass its connection URL"));
                }
            }
        }
    };
    let client = pg::connect(&url).await.map_err(|e| e.message)?;
    let model = schema::introspect(&client, &schema::default_excluded())
        .await
        .map_err(|e| e.message)?;
    Ok((model, None, Some(client)))
}

/// `neon-migrate diff --from A --to B`.
pub async fn diff(config: &Config, from: &str, to: &str, format: Format, offline: bool) -> i32 {
    let redactor = Redactor::new();
    let (a, b) = tokio::join!(load(from, config, &redactor), load(to, config, &redactor));
    let mut scratches = Vec::new();
    let (a, b, from_client) = match (a, b) {
        (Ok((a, sa, ca)), Ok((b, sb, _))) => {
            scratches.extend(sa);
            scratches.extend(sb);
            (a, b, ca)
        }
        (a, b) => {
            let mut first_error = String::new();
            for r in [a, b] {
                match r {
                    Ok((_, Some(s), _)) => s.finish().await,
                    Ok((_, None, _)) => {}
                    Err(e) if first_error.is_empty() => first_error = e,
                    Err(_) => {}
                }
            }
            return fail(&redactor, &first_error, Some("sources: a postgres:// URL, `main`, a .sql file, or a Neon database branch name"));
        }
    };
    for s in scratches {
        s.finish().await;
    }
    let opts = PlanOptions {
        online: !offline,
        ..Default::default()
    };
    let mut plan = schema::plan(&a, &b, &opts);
    // The rows of `from` each data-sensitive statement would fail on or change, counted.
    if let Some(client) = &from_client {
        // A URL may hold a password: it is never part of a message.
        let label = if from.contains("://") {
            "the --from database"
        } else {
            from
        };
        if let Err(e) =
            crate::checks::integrity::hazards::annotate(&mut plan, &a, &b, client, label).await
        {
            eprintln!(
                "warning: the rows the plan would fail on could not be counted: {}",
                redactor.redact(&e.to_string())
            );
        }
    }
    match format {
        Format::Sql => print!("{}", schema::render_sql(&plan)),
        Format::Markdown => print!("{}", schema::render_markdown(&plan)),
        Format::Json => {
            let v = serde_json::json!({
                "schema_version": 1,
                "from_fingerprint": schema::fingerprint(&a),
                "to_fingerprint": schema::fingerprint(&b),
                "plan": plan,
            });
            println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        }
    }
    if plan.unsupported.is_empty() {
        exit::OK
    } else {
        eprintln!(
            "warning: {} change(s) the schema engine cannot express; see the plan",
            plan.unsupported.len()
        );
        exit::CHECK_FAILED
    }
}

/// `neon-migrate generate <name>`.
pub async fn generate(
    config: &Config,
    git: &GitInfo,
    name: &str,
    schema_file: &Path,
    allow_destructive: bool,
) -> i32 {
    let redactor = Redactor::new();
    let config::ToolKind::Sql { migrations_dir } = &config.tool.kind else {
        eprintln!(
            "error: `generate` writes files for the built-in `sql` tool, but this project uses `{}`\n  help: use your tool's own generator, or set `name = \"sql\"` under [tool]",
            config.tool.name
        );
        return exit::CONFIG;
    };
    let slug = crate::naming::sanitize(name, 60).replace('/', "_");
    if slug == "unnamed" {
        eprintln!("error: give the migration a name, e.g. `neon-migrate generate add_orders`");
        return exit::USAGE;
    }
    let schema_path = if schema_file.is_absolute() {
        schema_file.to_owned()
    } else {
        config.root.join(schema_file)
    };
    if !schema_path.is_file() {
        eprintln!("error: the desired schema {} does not exist\n  help: write the schema you want in that file, or pass `--schema FILE`", schema_path.display());
        return exit::CONFIG;
    }

    // Desired side: the schema file in a scratch database.
    let desired = Scratch::load_sql(config, &schema_path, &redactor);
    // Current side: the main Neon database branch plus the pending migrations, on a test
    // Neon database branch (main itself is never touched).
    let current = async {
        let provider = open_provider(config, &redactor)
            .await
            .map_err(|e| e.message)?;
        let req = CreateRequest {
            name: crate::naming::sanitize(
                &format!("migrate/generate-{}", git.short_sha()),
                crate::naming::MAX_LEN,
            ),
            ttl: std::time::Duration::from_secs(3600),
            git_branch: git.branch.clone(),
            git_sha: git.sha.clone(),
            pipeline: "generate".into(),
            run_id: crate::providers::new_run_id(),
        };
        let branch = provider.create(&req).await.map_err(|e| e.message)?;
        redactor.add_url(branch.url.expose());
        let result = async {
            let tool = crate::tools::sql::SqlTool::new(migrations_dir.clone());
            let vars = crate::template::Vars::default();
            let target = crate::tools::Target {
                name: format!("test Neon database branch {}", branch.name),
                url: branch.url.clone(),
            };
            use crate::tools::Tool;
            tool.apply(&crate::tools::ToolContext {
                timeouts: None,
                connection_check: None,
                on_main: false,
                config,
                redactor: &redactor,
                vars: &vars,
                target,
            })
            .await
            .map_err(|e| e.to_string())?;
            let client = pg::connect(&branch.url).await.map_err(|e| e.message)?;
            schema::introspect(&client, &schema::default_excluded())
                .await
                .map_err(|e| e.message)
        }
        .await;
        let _ = provider.delete(&branch.id).await;
        result
    };
    let (desired, current) = tokio::join!(desired, current);
    let (scratch, b) = match desired {
        Ok(x) => x,
        Err(e) => return fail(&redactor, &e, None),
    };
    scratch.finish().await;
    let a = match current {
        Ok(m) => m,
        Err(e) => return fail(&redactor, &e, None),
    };

    let plan = schema::plan(&a, &b, &PlanOptions::default());
    if !plan.unsupported.is_empty() {
        eprintln!("error: the desired schema has changes the schema engine cannot express:");
        for u in &plan.unsupported {
            eprintln!("  - {u}");
        }
        return exit::CHECK_FAILED;
    }
    if plan.statements.is_empty() {
        println!("no changes: the main Neon database branch plus the pending migrations already matches {}", schema_path.display());
        return exit::OK;
    }
    if plan.deletes_data() && !allow_destructive {
        eprintln!("error: the plan deletes data:");
        for s in &plan.statements {
            for hz in s
                .hazards
                .iter()
                .filter(|h| h.kind == schema::HazardKind::DeletesData)
            {
                eprintln!(
                    "  - {} ({})",
                    s.sql.lines().next().unwrap_or(""),
                    hz.message
                );
            }
        }
        eprintln!("  help: if that is intended, run again with `--allow-destructive`");
        return exit::CHECK_FAILED;
    }
    let stamp = Utc::now().format("%Y%m%d%H%M%S");
    let file = migrations_dir.join(format!("{stamp}_{slug}.sql"));
    let mut text = String::new();
    if !plan.transactional() {
        text.push_str(&format!("-- {}\n", crate::tools::sql::NO_TRANSACTION));
    }
    text.push_str(&format!(
        "-- Generated by `neon-migrate generate {name}` from {} on {}.\n",
        schema_file.display(),
        crate::providers::local::rfc3339(Utc::now())
    ));
    text.push_str(&schema::render_sql(&plan));
    if let Err(e) =
        std::fs::create_dir_all(migrations_dir).and_then(|_| std::fs::write(&file, text))
    {
        eprintln!("error: cannot write {}: {e}", file.display());
        return exit::INTERNAL;
    }
    println!(
        "wrote {} ({} statement(s))",
        file.display(),
        plan.statements.len()
    );
    for k in plan.hazard_kinds() {
        println!(
            "  hazard: {}",
            serde_json::to_value(k)
                .expect("enum")
                .as_str()
                .unwrap_or("?")
        );
    }
    println!("next: review it, then `neon-migrate run pre-push` proves it on a test Neon database branch");
    exit::OK
}
