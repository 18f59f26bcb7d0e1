//! Tests of loading and validating configs.

use std::path::Path;
use std::time::Duration;

use super::load::config_root;
use super::*;

/// `--config neon-migrate.toml` (no folder): the project folder is the current one, as an
/// absolute path a tool can be started in, not the empty path.
#[test]
fn a_bare_config_file_name_has_the_current_folder_as_its_root() {
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(config_root(Path::new("neon-migrate.toml")), cwd);
    assert_eq!(
        config_root(Path::new("backend/neon-migrate.toml")),
        cwd.join("backend")
    );
    assert_eq!(
        config_root(Path::new("/repo/neon-migrate.toml")),
        Path::new("/repo")
    );
}

fn problems(text: &str) -> Vec<Problem> {
    match parse(FILE_NAME, text, Path::new("/repo")) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

#[test]
fn the_example_documents_a_valid_config() {
    let text = include_str!("../../neon-migrate.toml.example");
    let config = parse("neon-migrate.toml.example", text, Path::new("/repo"))
        .unwrap_or_else(|e| panic!("{}", diag::render(&e, true)));
    assert_eq!(config.sql_checks.len(), 3);
    assert_eq!(config.pipelines["pre-push"].stages.len(), 5);
    assert_eq!(config.pipelines["pre-push"].origin, "project");
    assert_eq!(config.db_branch.ttl, DEFAULT_TTL);
    let ProviderConfig::Local(local) = &config.provider else {
        panic!("the example's provider is local")
    };
    assert_eq!(local.tool_role, ToolRole::CopyOwner);
}

#[test]
fn tool_role_defaults_to_the_copy_owner_and_server_opts_out() {
    let local = |text: &str| match parse(FILE_NAME, text, Path::new("/repo")) {
        Ok(Config {
            provider: ProviderConfig::Local(l),
            ..
        }) => l,
        Ok(_) => panic!("not local"),
        Err(e) => panic!("{}", diag::render(&e, true)),
    };
    assert_eq!(local("").tool_role, ToolRole::CopyOwner);
    assert_eq!(
        local("[provider]\ntool-role = \"server\"\n").tool_role,
        ToolRole::Server
    );
    let p = problems("[provider]\ntool-role = \"superuser\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.contains("unknown tool role `superuser`"),
        "{p:?}"
    );
    let p = problems("[provider]\nkind = \"neon\"\ntool-role = \"server\"\n");
    assert!(
        p.iter().any(|p| p
            .message
            .contains("`tool-role` is a `local` provider setting")),
        "{p:?}"
    );
    // Without `url`, the main database is the repository's own; with one, the URL's.
    let main = local("").main_database.expect("a default main database");
    assert!(main.starts_with("main_repo_"), "{main}");
    assert_eq!(
        local("[provider]\nurl = \"{{env.DATABASE_URL}}\"\n").main_database,
        None
    );
}

#[test]
fn the_example_mentions_every_key() {
    let text = include_str!("../../neon-migrate.toml.example");
    for path in [
        &[][..],
        &["neon-database-branch"],
        &["provider"],
        &["tool"],
        &["checks"],
        &["checks", "sql", "*"],
        &["apply"],
        &["checks", "schema"],
        &["checks", "lint"],
        &["checks", "locks"],
        &["checks", "data"],
        &["checks", "reversible"],
        &["checks", "models"],
        &["stages", "*"],
        &["pipelines", "*"],
    ] {
        for key in raw::known_keys(path) {
            let documented = text.lines().any(|l| {
                let l = l.trim_start_matches(['#', ' ']);
                l.starts_with(&format!("{key} ="))
                    || l.starts_with(&format!("[{key}"))
                    || l.starts_with(&format!("[[{key}"))
                    || l.contains(&format!(".{key}]"))
                    || l.contains(&format!("[{}.{key}", path.join(".")))
            });
            assert!(
                documented,
                "key `{key}` of {path:?} is not documented in neon-migrate.toml.example"
            );
        }
    }
}

#[test]
fn presets_are_valid() {
    let config = parse(FILE_NAME, "", Path::new("/repo")).expect("defaults");
    for name in ["pre-push", "ci", "deploy"] {
        assert_eq!(config.pipelines[name].origin, "preset");
    }
    let deploy = &config.pipelines["deploy"];
    assert_eq!(deploy.stages.last().map(|s| s.name.as_str()), Some("apply"));
    assert!(deploy
        .stages
        .iter()
        .any(|s| s.always && matches!(s.kind, StageKind::DeleteDbBranch)));
}

#[test]
fn reports_every_problem_at_once_with_positions() {
    let text = "[neon-database-branch]\nttl = \"4 hours\"\ncolor = 1\n\n[pipelines.x]\nstages = [\"create-neon-database-branch\", \"migrat\", \"delete-neon-database-branch\"]\n";
    let err = parse(FILE_NAME, text, Path::new("/repo")).unwrap_err();
    let lines = err.plain_lines();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("neon-migrate.toml:2:7: malformed duration"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("neon-migrate.toml:3:1: unknown key `color`"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("neon-migrate.toml:6:42: unknown stage `migrat`"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("did you mean `migrate`?"), "{}", lines[2]);
}

#[test]
fn pipeline_order_rules() {
    let p = problems("[pipelines.x]\nstages = [\"migrate\", \"create-neon-database-branch\"]\n");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p
        .iter()
        .any(|p| p.message.contains("none is created before it")));
    assert!(p.iter().any(|p| p.message.contains("never deletes it")));
}

#[test]
fn secrets_and_values_are_checked() {
    let p = problems("[provider]\nurl = \"postgres://u:hunter2@h/db\"\nbusy-parent = \"wait\"\n");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].message.contains("password"));
    assert!(p[1].help.as_deref().unwrap_or("").contains("`fail`"));
}

#[test]
fn neon_provider_settings() {
    let text = "[provider]\nkind = \"neon\"\nproject-id = \"p-1\"\nparent = \"production\"\noperation-timeout = \"2m\"\n";
    let c = parse(FILE_NAME, text, Path::new("/repo"))
        .unwrap_or_else(|e| panic!("{:?}", e.plain_lines()));
    let ProviderConfig::Neon(n) = c.provider else {
        panic!("neon expected")
    };
    assert_eq!(n.project_id.as_deref(), Some("p-1"));
    assert_eq!(n.parent.as_deref(), Some("production"));
    assert_eq!(n.api_key_env, "NEON_API_KEY");
    assert_eq!(
        (n.database.as_str(), n.role.as_str()),
        ("neondb", "neondb_owner")
    );
    assert_eq!(n.operation_timeout, Duration::from_secs(120));

    let p =
        problems("[provider]\nkind = \"neon\"\napi-key = \"napi_abc\"\nmain-database = \"x\"\n");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p[0].message.contains("API key is written"),
        "{}",
        p[0].message
    );
    assert!(
        p[1].message
            .contains("`main-database` is a `local` provider setting"),
        "{}",
        p[1].message
    );
    let p = problems("[provider]\nproject-id = \"x\"\n");
    assert!(
        p[0].message
            .contains("`project-id` is a `neon` provider setting"),
        "{p:#?}"
    );
}

#[test]
fn type_errors_point_at_the_value() {
    let err = parse(
        FILE_NAME,
        "[neon-database-branch]\nttl = 4\n",
        Path::new("/repo"),
    )
    .unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.line_col(err.problems[0].span.start), (2, 7));
}

#[test]
fn an_unknown_tool_needs_a_command_and_a_typo_gets_the_nearest_preset() {
    let p = problems("[tool]\nname = \"prisa\"\n");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].message.contains("has no preset and no `command`"));
    assert!(
        p[0].help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `prisma`?"),
        "{p:#?}"
    );
    assert!(problems("[tool]\nname = \"acme\"\ncommand = \"acme migrate\"\n").is_empty());
}

#[test]
fn a_preset_supplies_every_key_and_the_project_overrides_any() {
    let c = parse(FILE_NAME, "[tool]\nname = \"knex\"\n", Path::new("/repo")).unwrap();
    assert_eq!(
        c.tool.kind_command().map(|c| c.display()),
        Some("npx --no -- knex migrate:latest".into())
    );
    assert_eq!(
        c.tool.down_command.as_ref().map(CommandSpec::display),
        Some("npx --no -- knex migrate:down".into())
    );
    assert_eq!(c.tool.title.as_deref(), Some("Knex"));
    let text = "[tool]\nname = \"knex\"\ncommand = [\"npx\", \"knex\", \"migrate:latest\", \"--env\", \"production\"]\ntracking-query = \"select name from app.knex_migrations\"\n[tool.env]\nNODE_ENV = \"production\"\n";
    let c = parse(FILE_NAME, text, Path::new("/repo")).unwrap();
    assert_eq!(
        c.tool.kind_command().map(|c| c.display()),
        Some("npx knex migrate:latest --env production".into())
    );
    assert_eq!(c.tool.env, vec![("NODE_ENV".into(), "production".into())]);
    assert_eq!(
        c.tool.tracking.as_ref().map(|t| t.query.as_str()),
        Some("select name from app.knex_migrations")
    );
    // Keys the project did not give still come from the preset.
    assert!(c.tool.down_command.is_some());
    let p = problems("[tool]\nname = \"sql\"\ndown-command = \"x\"\nurl-format = \"odbc\"\n");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].message.contains("takes no `down-command`"));
    assert!(p[1].message.contains("unknown URL format `odbc`"));
}

#[test]
fn every_tool_preset_is_valid_and_documents_only_known_keys() {
    for preset in crate::tools::presets::all() {
        // Unknown keys in a preset's [tool] (and its variants) would be silently ignored.
        let name = preset.name;
        let text = crate::tools::presets::PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        let doc: toml::Table = toml::from_str(text).unwrap();
        let mut tables: Vec<toml::Table> = Vec::new();
        if let Some(t) = doc.get("tool").and_then(|t| t.as_table()) {
            tables.push(t.clone());
        }
        for v in doc
            .get("variant")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let mut t = v.as_table().unwrap().clone();
            t.remove("when");
            tables.push(t);
        }
        for t in tables {
            let mut unknown = Vec::new();
            let text = toml::to_string(&t).unwrap();
            let _: raw::RawTool = serde_ignored::deserialize(toml::Deserializer::new(&text), |p| {
                unknown.push(p.to_string())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(unknown.is_empty(), "{name}: unknown keys {unknown:?}");
        }
        let c = parse(
            FILE_NAME,
            &format!("[tool]\nname = \"{name}\"\n"),
            Path::new("/repo"),
        )
        .unwrap_or_else(|e| panic!("{name}: {:?}", e.plain_lines()));
        assert_eq!(c.tool.name, name);
        if name != "sql" {
            assert!(c.tool.tracking.is_some(), "{name} has no tracking-query");
            assert!(preset.detectable(), "{name} has no detection rules");
        }
    }
}

/// A name written in the config is the JSON name of the same value (reports and configs
/// speak one language), for every value of every enum that has both.
#[test]
fn config_names_are_the_serialized_names() {
    fn same<T: ConfigName + serde::Serialize + std::fmt::Debug>() {
        for v in enum_iterator::all::<T>() {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::Value::from(v.name()),
                "{v:?}"
            );
            assert_eq!(T::from_name(v.name()).map(|b| b.name()), Some(v.name()));
        }
    }
    same::<crate::schema::HazardKind>();
    same::<ToolRole>();
    same::<BusyParent>();
    same::<UrlFormat>();
}

#[test]
fn a_built_in_stage_is_named_as_its_kind_and_shell_is_the_one_other_stage_kind() {
    for b in enum_iterator::all::<BuiltinStage>() {
        assert_eq!(b.kind().as_str(), b.name());
        assert_eq!(b.kind().builtin(), Some(b));
        assert_eq!(BuiltinStage::from_name(b.name()), Some(b));
    }
    let mut kinds = BuiltinStage::names();
    kinds.push("shell");
    assert_eq!(StageKindName::names(), kinds);
    assert_eq!(ProviderKind::names(), ["local", "neon"]);
}

#[test]
fn a_pipeline_with_no_stages_is_refused_it_would_pass_having_proven_nothing() {
    let p = problems("[pipelines.r]\nstages = []\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("pipeline `r` has no stages"), "{p:?}");
    assert!(problems("[pipelines.r]\nstages = [\"create-neon-database-branch\", \"delete-neon-database-branch\"]\n").is_empty());
}

#[test]
fn a_required_check_that_is_not_enabled_is_an_error() {
    // Off by default, required: the run would not list it at all.
    let p = problems("[checks.workload]\nrequired = true\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.contains("the `workload` check is not enabled"),
        "{p:?}"
    );
    let p = problems("[checks.integrity]\nrequired = true\nenabled = false\n");
    assert_eq!(p.len(), 1, "{p:?}");
    let p = problems("[checks.locks]\nrequired = true\nenabled = false\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(problems("[checks.workload]\nrequired = true\nenabled = true\n").is_empty());
    assert!(problems("[checks.locks]\nrequired = true\n").is_empty());
}

/// `(line, message, help)` of each problem of `text`.
fn located(text: &str) -> Vec<(usize, String, String)> {
    match parse(FILE_NAME, text, Path::new("/repo")) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .map(|p| {
                (
                    e.line_col(p.span.start).0,
                    p.message.clone(),
                    p.help.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// From an outside attacker: `rate = "0.5/s"` was accepted and then replayed at 1/s (each
/// query found got at least 1/s). A rate under 1/s is refused where it is written, with the
/// lowest accepted form.
#[test]
fn a_workload_rate_below_one_per_second_is_refused_at_its_line() {
    for rate in ["0.5/s", "1/min", "30/min", "1000/h"] {
        let p = located(&format!(
            "[checks.workload]\nenabled = true\nrate = \"{rate}\"\n"
        ));
        assert_eq!(p.len(), 1, "{rate}: {p:?}");
        let (line, message, help) = &p[0];
        assert_eq!(*line, 3, "{rate}: {p:?}");
        assert!(message.contains("`checks.workload.rate`"), "{message}");
        assert!(message.contains("below 1 request per second"), "{message}");
        assert!(
            help.contains("`1/s`") && help.contains("`60/min`"),
            "{help}"
        );
    }
    let p = located(
        "[checks.workload]\nenabled = true\n\n[[checks.workload.query]]\nname = \"q\"\n\
         sql = \"SELECT 1\"\nrate = \"30/min\"\n",
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, 7, "{p:?}");
    assert!(p[0].1.contains("below 1 request per second"), "{p:?}");
    assert!(located("[checks.workload]\nenabled = true\nrate = \"60/min\"\n").is_empty());
}

/// From an outside attacker: `max-p99-ratio = inf` said "inf is below 1".
#[test]
fn a_workload_p99_ratio_must_be_a_finite_number_of_at_least_one() {
    for ratio in ["inf", "nan", "-2.0", "0.5", "-inf"] {
        let p = located(&format!(
            "[checks.workload]\nenabled = true\nmax-p99-ratio = {ratio}\n"
        ));
        assert_eq!(p.len(), 1, "{ratio}: {p:?}");
        let (line, message, help) = &p[0];
        assert_eq!(*line, 3, "{ratio}: {p:?}");
        assert!(
            message.contains("must be a finite number ≥ 1"),
            "{ratio}: {message}"
        );
        assert!(!message.contains("inf is below"), "{message}");
        assert!(help.contains("max-p99-ratio = 3.0"), "{help}");
    }
    assert!(located("[checks.workload]\nenabled = true\nmax-p99-ratio = 1\n").is_empty());
}

/// From an outside attacker: `baseline = "1.5s"` said "unknown unit `.`". Every duration of
/// the config shares one parser: a decimal is accepted everywhere, as a whole number of
/// milliseconds.
#[test]
fn decimal_durations_are_accepted_by_every_duration_key() {
    let c = parse(
        FILE_NAME,
        "[neon-database-branch]\nttl = \"1.5h\"\n\n[checks.workload]\nenabled = true\nbaseline = \"1.5s\"\n\
         max-blocked = \"0.25s\"\n",
        Path::new("/repo"),
    )
    .unwrap_or_else(|e| panic!("{}", diag::render(&e, true)));
    assert_eq!(c.db_branch.ttl, Duration::from_secs(90 * 60));
    assert_eq!(c.checks.workload.baseline, Duration::from_millis(1500));
    assert_eq!(c.checks.workload.max_blocked, Duration::from_millis(250));
    let p = located("[checks.workload]\nenabled = true\nbaseline = \"1.0005s\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, 3, "{p:?}");
    assert!(p[0].1.contains("finer than a millisecond"), "{p:?}");
    assert!(p[0].2.contains("`1.5s`"), "{p:?}");
}

/// From an outside attacker: a `[[checks.workload.query]]` without `sql` was reported at the
/// `[checks.workload]` header. It is reported at the entry's own header and names the key.
#[test]
fn a_workload_query_missing_a_key_is_reported_at_its_own_entry() {
    let text = "[checks.workload]\nenabled = true\n\n\
                [[checks.workload.query]]\nname = \"a\"\nsql = \"SELECT 1\"\nrate = \"1/s\"\n\n\
                [[checks.workload.query]]\nname = \"b\"\nrate = \"1/s\"\n\n\
                [[checks.workload.query]]\nname = \"c\"\nsql = \"SELECT 2\"\n";
    let p = located(text);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].0, 9, "the second entry's header: {p:?}");
    assert!(
        p[0].1.contains("no `sql`") && p[0].1.contains("`b`"),
        "{p:?}"
    );
    assert_eq!(p[1].0, 13, "the third entry's header: {p:?}");
    assert!(
        p[1].1.contains("no `rate`") && p[1].1.contains("`c`"),
        "{p:?}"
    );
    assert!(p.iter().all(|x| !x.2.is_empty()), "{p:?}");
}

/// attack11 A11: the apply's lock wait on main defaults to the ACCESS EXCLUSIVE budget the
/// test copy was held to (it was 3 s: a queued statement stalled production's reads that long).
#[test]
fn the_apply_lock_timeout_defaults_to_the_access_exclusive_budget() {
    let apply = |text: &str| {
        parse(FILE_NAME, text, Path::new("/repo"))
            .unwrap_or_else(|e| panic!("{}", diag::render(&e, true)))
            .apply
            .lock_timeout
    };
    assert_eq!(apply(""), Duration::from_millis(500));
    assert_eq!(
        apply("[checks.locks]\naccess-exclusive-budget = \"2s\"\n"),
        Duration::from_secs(2)
    );
    assert_eq!(
        apply("[apply]\nlock-timeout = \"50ms\"\n"),
        Duration::from_millis(50)
    );
}

/// attack10 F13: locks that block writes have their own budget, four times the ACCESS EXCLUSIVE
/// one unless set.
#[test]
fn the_write_lock_budget_defaults_to_four_access_exclusive_budgets() {
    let locks = |text: &str| {
        parse(FILE_NAME, text, Path::new("/repo"))
            .unwrap_or_else(|e| panic!("{}", diag::render(&e, true)))
            .checks
            .locks
    };
    let l = locks("[checks.locks]\naccess-exclusive-budget = \"1s\"\n");
    assert_eq!(l.write_lock_budget, Duration::from_secs(4));
    let l = locks("[checks.locks]\nwrite-lock-budget = \"90s\"\n");
    assert_eq!(
        (l.access_exclusive_budget, l.write_lock_budget),
        (Duration::from_millis(500), Duration::from_secs(90))
    );
    assert!(!problems("[checks.locks]\nwrite-lock-budget = \"soon\"\n").is_empty());
}

/// From an outside attacker: `[checks.workload]` with settings and queries but no
/// `enabled = true` passed `neon-migrate check`, and every run skipped the check without a
/// word. It is an error at the section's header, as `required` without `enabled` is.
#[test]
fn workload_settings_without_enabled_are_an_error_at_the_section() {
    let text = "[checks.locks]\naccess-exclusive-budget = \"5s\"\n\n\
                [checks.workload]\nmax-blocked = \"50ms\"\n\n\
                [[checks.workload.query]]\nname = \"q\"\nsql = \"SELECT 1\"\nrate = \"1/s\"\n";
    let p = located(text);
    assert_eq!(p.len(), 1, "{p:?}");
    let (line, message, help) = &p[0];
    assert_eq!(*line, 4, "the [checks.workload] header: {p:?}");
    assert!(
        message.contains("not `enabled = true`") && message.contains("`max-blocked`"),
        "{message}"
    );
    assert!(
        help.contains("add `enabled = true` under [checks.workload]"),
        "{help}"
    );
    // Queries alone: at their entry.
    let p =
        located("[[checks.workload.query]]\nname = \"q\"\nsql = \"SELECT 1\"\nrate = \"1/s\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, 1, "{p:?}");
    assert!(located("[checks.workload]\nenabled = false\nmax-blocked = \"50ms\"\n").is_empty());
    // `required` without `enabled`: one error, the existing one.
    let p = problems("[checks.workload]\nrequired = true\nmax-blocked = \"50ms\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("`required = true`"), "{p:?}");
}
