//! Where a migration tool keeps its migrations, read from the tool's own config rather than
//! assumed: Alembic's `script_location` (alembic.ini or `[tool.alembic]` in pyproject.toml),
//! Drizzle's `out` and `schema` (drizzle.config.*), Knex's `migrations.directory` (knexfile),
//! Prisma's `schema` and `migrations.path` (prisma.config.* or `"prisma"` in package.json).
//!
//! The layout replaces the preset's `watch`, `migration-files` and `config-files` guesses (the
//! project's own keys still win), and names migrations the way the tool does, so that
//! `allow-migrations` accepts a file name, a Drizzle tag or an Alembic revision id for what the
//! tool's tracking table records.

use std::path::Path;

use crate::tools::detect::Tree;

/// What a tool's config says about its files (paths relative to the tool's working folder,
/// `/` separated, without a leading `./`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The config file the layout was read from.
    pub source: String,
    /// Paths whose change needs a migration run.
    pub watch: Vec<String>,
    /// Globs of files that are one migration each (replaces the preset's, when set).
    pub migration_files: Option<Vec<String>>,
    /// Config files to read for variable names, beyond the preset's.
    pub config_files: Vec<String>,
    /// The folder holding the migrations themselves.
    pub migrations_dir: String,
    /// Paths added to the preset's `watch` (kept) rather than replacing it.
    pub extra_watch: Vec<String>,
    /// The schema file the tool's config names (Prisma), replacing the preset's guess in its
    /// commands.
    pub schema: Option<String>,
    /// What could not be read from the tool's config, said by `init` and `check`. With one,
    /// `watch` is empty: every path is watched.
    pub notes: Vec<String>,
}

/// A relative path from a config value: `./x/` → `x`; `None` for absolute or escaping paths.
fn clean(value: &str) -> Option<String> {
    let v = value.trim().trim_start_matches("./").trim_end_matches('/');
    if v.is_empty() || v.starts_with('/') || v.split('/').any(|s| s == "..") {
        return None;
    }
    Some(v.replace("/./", "/"))
}

/// What follows each whole `key` written as `key: …`, `key = …` or `"key": …`, trimmed, in
/// order; `key` preceded by a character `longer` accepts is the tail of a longer name.
fn after_key<'a>(text: &'a str, key: &str, longer: fn(char) -> bool) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(key) {
        let start = from + at;
        from = start + key.len();
        if text[..start].chars().next_back().is_some_and(longer) {
            continue;
        }
        let rest = text[from..].trim_start_matches(['"', '\'']).trim_start();
        if let Some(rest) = rest.strip_prefix([':', '=']) {
            out.push(rest.trim_start());
        }
    }
    out
}

/// The string values written after `key` (`key: "v"`, `key = "v"`, `"key": "v"`, and the
/// strings of `key: ["a", "b"]`), in order.
pub fn string_values(text: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for rest in after_key(text, key, |c| c.is_ascii_alphanumeric() || c == '_') {
        let mut push = |s: &str| {
            let q = s.chars().next().unwrap_or(' ');
            if !matches!(q, '"' | '\'' | '`') {
                return None;
            }
            let end = s[1..].find(q)?;
            let v = s[1..1 + end].to_owned();
            if !out.contains(&v) {
                out.push(v);
            }
            Some(1 + end + 1)
        };
        if let Some(list) = rest.strip_prefix('[') {
            let mut l = list;
            loop {
                l = l.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
                if l.starts_with(']') || l.is_empty() {
                    break;
                }
                match push(l) {
                    Some(n) => l = &l[n..],
                    None => break,
                }
            }
        } else {
            push(rest);
        }
    }
    out
}

/// `key = value` of an ini section (`[alembic]`), `%(here)s/` removed.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == format!("[{section}]");
            continue;
        }
        if !inside || l.starts_with(['#', ';']) {
            continue;
        }
        if let Some((k, v)) = l.split_once(['=', ':']) {
            if k.trim() == key {
                return Some(v.trim().replace("%(here)s/", "").replace("%(here)s", "."));
            }
        }
    }
    None
}

fn read(tree: &Tree, rel: &str) -> Option<String> {
    std::fs::read_to_string(tree.root().join(rel)).ok()
}

/// The layout of preset `tool` in `tree`, when its config says more than the preset assumes.
pub fn of(tool: &str, tree: &Tree) -> Option<Layout> {
    match tool {
        "alembic" => alembic(tree),
        "drizzle" => drizzle(tree),
        "knex" => knex(tree),
        "prisma" => prisma(tree),
        "diesel" => diesel(tree),
        "sequelize" => sequelize(tree),
        "typeorm" => typeorm(tree),
        "django" => django(tree),
        "flask-migrate" => flask_migrate(tree),
        _ => None,
    }
}

/// The files a tool's layout is read from (paths relative to its working folder, braces
/// expanded): when one differs in a pushed commit, the checked-out tree's layout says nothing
/// about where that commit keeps its migrations.
pub fn sources(tool: &str) -> Vec<String> {
    let globs: &[&str] = match tool {
        "alembic" => &["alembic.ini", "pyproject.toml"],
        "drizzle" => &["drizzle.config.{ts,js,mjs,cjs,mts,cts,json}"],
        "knex" => &["knexfile.{js,ts,cjs,mjs}"],
        "prisma" => &["prisma.config.{ts,js,mjs,cjs,mts,cts}", "package.json"],
        "diesel" => &["diesel.toml"],
        "sequelize" => &[".sequelizerc"],
        "typeorm" => {
            &["{,src/,src/db/,src/database/,src/config/}{data-source,datasource}.{ts,js,mjs,cjs}"]
        }
        "flask-migrate" => &[".flaskenv", ".env"],
        _ => &[],
    };
    globs
        .iter()
        .flat_map(|g| crate::tools::detect::expand_braces(g))
        .collect()
}

fn alembic(tree: &Tree) -> Option<Layout> {
    let (source, location) = if let Some(text) = read(tree, "alembic.ini") {
        (
            "alembic.ini",
            ini_value(&text, "alembic", "script_location")?,
        )
    } else {
        let text = read(tree, "pyproject.toml")?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        let loc = table
            .get("tool")?
            .get("alembic")?
            .get("script_location")?
            .as_str()?
            .replace("%(here)s/", "");
        ("pyproject.toml", loc)
    };
    // `package:folder` names a package resource: not a path neon-migrate can watch.
    if location.contains(':') {
        return None;
    }
    let dir = clean(&location)?;
    // The models `env.py` reaches (its `target_metadata`): a model changed without its
    // migration must still start a run, where the `models` check finds it.
    let mut watch = vec![source.to_owned(), dir.clone()];
    let env = format!("{dir}/env.py");
    watch.extend(
        crate::tools::pyimports::project_imports(tree.root(), &env)
            .into_iter()
            .filter(|f| !f.starts_with(&format!("{dir}/"))),
    );
    Some(Layout {
        source: source.into(),
        watch,
        migration_files: None,
        config_files: vec![format!("{dir}/env.py")],
        migrations_dir: format!("{dir}/versions"),
        ..Layout::default()
    })
}

/// Django: the migrations folders of the apps `INSTALLED_APPS` names that live outside the
/// working folder (a monorepo's `app/manage.py` with its apps beside `app/`), where the
/// preset's `**/migrations` does not reach. An app `a.b` (or its AppConfig `a.b.apps.C`) is
/// looked for from the working folder up to the git work tree's root, as `manage.py`'s
/// `sys.path` does; the paths found are added to the preset's `watch`.
fn django(tree: &Tree) -> Option<Layout> {
    let root = tree.root();
    let mut settings: Vec<String> = tree.matches("**/settings.py");
    settings.extend(tree.matches("**/settings/*.py"));
    let apps: Vec<String> = settings
        .iter()
        .filter_map(|f| read(tree, f))
        .flat_map(|t| string_values(&t, "INSTALLED_APPS"))
        .collect();
    // The folders above the working folder, up to the git work tree's root.
    let mut bases = Vec::new();
    let mut up = String::new();
    for dir in root.ancestors().skip(1).take(8) {
        up.push_str("../");
        bases.push((dir.to_path_buf(), up.clone()));
        if dir.join(".git").exists() {
            break;
        }
    }
    let mut extra = Vec::new();
    for app in &apps {
        let parts: Vec<&str> = app.split('.').collect();
        // `a.b.apps.BConfig` names a class in module `a.b.apps`: the app is `a.b`.
        let found = (1..=parts.len()).rev().find_map(|n| {
            let rel = parts[..n].join("/");
            if rel.is_empty() || root.join(&rel).join("migrations").is_dir() {
                return None; // inside the working folder: the preset's glob has it
            }
            bases
                .iter()
                .find(|(b, _)| b.join(&rel).join("migrations").is_dir())
                .map(|(_, up)| format!("{up}{rel}/migrations"))
        });
        if let Some(f) = found.filter(|f| !extra.contains(f)) {
            extra.push(f);
        }
    }
    if extra.is_empty() {
        return None;
    }
    Some(Layout {
        source: settings.first().cloned().unwrap_or_default(),
        extra_watch: extra,
        ..Layout::default()
    })
}

/// The module `flask` loads: FLASK_APP (the environment's is not known here: .flaskenv, .env),
/// else app.py or wsgi.py, as a file of the project.
fn flask_app(tree: &Tree) -> Option<String> {
    let named = [".flaskenv", ".env"].iter().find_map(|f| {
        read(tree, f)?.lines().find_map(|l| {
            let v = l
                .trim()
                .strip_prefix("FLASK_APP")?
                .trim_start()
                .strip_prefix('=')?;
            Some(v.trim().trim_matches(['"', '\'']).to_owned())
        })
    });
    let candidates: Vec<String> = match named {
        Some(app) => {
            let module = app.split(':').next().unwrap_or("").trim();
            if module.ends_with(".py") {
                vec![module.to_owned()]
            } else {
                let m = module.replace('.', "/");
                vec![format!("{m}.py"), format!("{m}/__init__.py")]
            }
        }
        None => vec!["app.py".into(), "wsgi.py".into()],
    };
    candidates
        .into_iter()
        .filter_map(|c| clean(&c))
        .find(|c| tree.root().join(c).is_file())
}

/// Flask-Migrate: migrations/ (Alembic's files, no `script_location`), and the app's modules
/// (the models), followed from the file `flask` loads.
fn flask_migrate(tree: &Tree) -> Option<Layout> {
    if !tree.root().join("migrations/env.py").is_file() {
        return None;
    }
    let mut watch = vec!["migrations".to_owned()];
    if let Some(app) = flask_app(tree) {
        watch.extend(crate::tools::pyimports::project_imports(tree.root(), &app));
        watch.push(app);
    }
    for f in [".flaskenv", "config.py"] {
        if tree.root().join(f).is_file() && !watch.iter().any(|w| w == f) {
            watch.push(f.to_owned());
        }
    }
    Some(Layout {
        source: "migrations/alembic.ini".into(),
        watch,
        migrations_dir: "migrations/versions".into(),
        ..Layout::default()
    })
}

fn drizzle(tree: &Tree) -> Option<Layout> {
    let source = tree
        .matches("drizzle.config.{ts,js,mjs,cjs,mts,cts,json}")
        .into_iter()
        .next()?;
    let text = read(tree, &source)?;
    let out = string_values(&text, "out")
        .into_iter()
        .find_map(|o| clean(&o))
        .unwrap_or_else(|| "drizzle".into());
    let mut watch = vec![out.clone(), source.clone()];
    // Paths only: `migrations: { schema: "drizzle" }` names a database schema.
    for s in string_values(&text, "schema") {
        if let Some(s) = clean(&s).filter(|s| s.contains(['/', '.', '*'])) {
            if !watch.contains(&s) {
                watch.push(s);
            }
        }
    }
    Some(Layout {
        source,
        watch,
        migration_files: Some(vec![format!("{out}/*.sql")]),
        config_files: Vec::new(),
        migrations_dir: out,
        ..Layout::default()
    })
}

fn knex(tree: &Tree) -> Option<Layout> {
    let source = tree
        .matches("knexfile.{js,ts,cjs,mjs}")
        .into_iter()
        .next()?;
    let text = read(tree, &source)?;
    // `migrations: { directory: "…" }` (not the seeds' directory), in every environment.
    let mut dirs: Vec<String> = Vec::new();
    for (at, _) in text.match_indices("migrations") {
        let block = &text[at..];
        let block = &block[..object_end(block)];
        let key_tail = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
        for value in after_key(block, "directory", key_tail) {
            let values = match value.strip_prefix('[') {
                Some(inside) => js_elements(inside),
                None => vec![value],
            };
            for d in values.into_iter().filter_map(js_path) {
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
    }
    let dirs = if dirs.is_empty() {
        vec!["migrations".to_owned()]
    } else {
        dirs
    };
    let mut watch = dirs.clone();
    watch.push(source.clone());
    Some(Layout {
        source,
        watch,
        migration_files: Some(
            dirs.iter()
                .map(|d| format!("{d}/*.{{js,ts,cjs,mjs}}"))
                .collect(),
        ),
        config_files: Vec::new(),
        migrations_dir: dirs[0].clone(),
        ..Layout::default()
    })
}

/// Where the object `text` is inside of ends: its first `}` that does not close a template
/// literal's `${…}`.
fn object_end(text: &str) -> usize {
    let mut open = 0;
    for (i, c) in text.char_indices() {
        if c == '{' && text[..i].ends_with('$') {
            open += 1;
        } else if c == '}' && open > 0 {
            open -= 1;
        } else if c == '}' {
            return i;
        }
    }
    text.len()
}

fn prisma(tree: &Tree) -> Option<Layout> {
    let config = tree
        .matches("prisma.config.{ts,js,mjs,cjs,mts,cts}")
        .into_iter()
        .next();
    let mut unreadable = None;
    let (source, schema, migrations) = match config.as_ref().and_then(|c| read(tree, c)) {
        Some(text) => {
            // `schema: "prisma/schema.prisma"`, or `path.join("src", "prisma", …)` as
            // Prisma's docs write it.
            let written = js_values(&text, "schema");
            let schema = written.iter().find_map(|s| js_path(s));
            if schema.is_none() {
                unreadable = written.first().map(|w| {
                    w.chars()
                        .take_while(|c| !matches!(c, ',' | '\n' | '}'))
                        .collect::<String>()
                });
            }
            // `migrations: { path: "…" }`
            let migrations = text
                .find("migrations")
                .and_then(|at| string_values(&text[at..], "path").into_iter().next())
                .and_then(|p| clean(&p));
            (config.clone().unwrap_or_default(), schema, migrations)
        }
        None => {
            let text = read(tree, "package.json")?;
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            let schema = json["prisma"]["schema"].as_str().and_then(clean);
            ("package.json".to_owned(), schema, None)
        }
    };
    if let Some(written) = unreadable {
        // A schema path neon-migrate cannot read: never a guess, watch the whole folder.
        return Some(Layout {
            notes: vec![format!(
                "{source}: the Prisma schema path `schema: {}` is not a string or a `path.join`/`path.resolve` of strings, so neon-migrate cannot tell where the schema and migrations are: every path of the project is watched by the git hook, and the `models` check keeps the preset's `prisma/schema.prisma`; write the path as a string, or set `watch` and `migration-files` under [tool]",
                written.trim()
            )],
            source,
            ..Layout::default()
        });
    }
    if schema.is_none() && migrations.is_none() {
        return None;
    }
    // The schema is a file (prisma/schema.prisma) or a folder of .prisma files; migrations
    // live beside it unless the config says where.
    let schema_dir = schema.as_ref().map(|s| {
        if s.ends_with(".prisma") {
            s.rsplit_once('/')
                .map(|(d, _)| d.to_owned())
                .unwrap_or_default()
        } else {
            s.clone()
        }
    });
    let migrations = migrations.unwrap_or_else(|| match schema_dir.as_deref() {
        Some("") | None => "migrations".to_owned(),
        Some(d) => format!("{d}/migrations"),
    });
    let mut watch = vec![source.clone(), migrations.clone()];
    if let Some(s) = &schema {
        watch.push(s.clone());
    }
    let mut config_files = Vec::new();
    if let Some(s) = schema.clone().filter(|s| s.ends_with(".prisma")) {
        config_files.push(s);
    }
    Some(Layout {
        source,
        watch,
        migration_files: Some(vec![format!("{migrations}/*/migration.sql")]),
        config_files,
        migrations_dir: migrations,
        extra_watch: Vec::new(),
        schema,
        notes: Vec::new(),
    })
}

fn diesel(tree: &Tree) -> Option<Layout> {
    let text = read(tree, "diesel.toml")?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let dir = clean(table.get("migrations_directory")?.get("dir")?.as_str()?)?;
    Some(Layout {
        source: "diesel.toml".into(),
        watch: vec![dir.clone(), "diesel.toml".into()],
        migration_files: Some(vec![format!("{dir}/*/up.sql")]),
        config_files: Vec::new(),
        migrations_dir: dir,
        ..Layout::default()
    })
}

/// A path written in JavaScript: `"db/migrations"`, or `path.resolve("db", "migrations")` /
/// `path.join(__dirname, "db", "migrations")` / `__dirname + "/db/migrations"` /
/// `` `${__dirname}/db/migrations` `` (relative to the file's folder).
fn js_path(expr: &str) -> Option<String> {
    clean(&js_expr_path(expr)?.0)
}

/// The path one JavaScript expression at the start of `expr` spells, as written (wildcards
/// kept, not cleaned), and whether it is relative to the file's own folder (`__dirname`):
/// a string literal, `path.join(…)` / `path.resolve(…)` of `__dirname`, `process.cwd()` and
/// literals, `__dirname + "/…"`, or a template literal starting `${__dirname}/`.
fn js_expr_path(expr: &str) -> Option<(String, bool)> {
    let expr = expr.trim_start();
    let literal = |a: &str| -> Option<String> {
        let q = a.chars().next()?;
        if !matches!(q, '"' | '\'' | '`') {
            return None;
        }
        let end = a[1..].find(q)?;
        Some(a[1..1 + end].to_owned())
    };
    if let Some(call) = ["path.resolve(", "path.join(", "resolve(", "join("]
        .iter()
        .find_map(|f| expr.strip_prefix(f))
    {
        let args = &call[..call.find(')')?];
        let (mut parts, mut relative) = (Vec::new(), false);
        for a in args.split(',') {
            let a = a.trim();
            if a == "__dirname" || a == "process.cwd()" {
                relative |= a == "__dirname";
                continue;
            }
            let v = literal(a).filter(|v| v.len() + 2 == a.len())?;
            parts.push(v.trim_matches('/').to_owned());
        }
        return Some((parts.join("/"), relative));
    }
    for root in ["__dirname", "process.cwd()"] {
        if let Some(rest) = expr.strip_prefix(root) {
            let rest = rest.trim_start().strip_prefix('+')?.trim_start();
            let v = literal(rest)?;
            return Some((v.trim_start_matches('/').to_owned(), root == "__dirname"));
        }
    }
    let v = literal(expr)?;
    for root in ["${__dirname}", "${process.cwd()}"] {
        if let Some(rest) = v.strip_prefix(root) {
            return Some((
                rest.trim_start_matches('/').to_owned(),
                root == "${__dirname}",
            ));
        }
    }
    if v.contains("${") {
        return None;
    }
    Some((v, false))
}

/// The elements of a JavaScript array's inside (after `[`), split at its top-level commas, up
/// to its closing `]`.
fn js_elements(inside: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quote, mut from) = (Vec::new(), 0i32, None, 0);
    for (i, c) in inside.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | '}') => depth -= 1,
            (None, ']') if depth == 0 => {
                out.push(&inside[from..i]);
                return out;
            }
            (None, ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&inside[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inside[from..]);
    out
}

/// The JavaScript expressions written after `key:` / `key =` / `"key":` (up to the end of the
/// line), in order.
fn js_values(text: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for value in after_key(text, key, |c| {
        c.is_ascii_alphanumeric() || c == '_' || c == '.'
    }) {
        let line = &value[..value.find('\n').unwrap_or(value.len())];
        if !line.trim().is_empty() {
            out.push(line.trim().to_owned());
        }
    }
    out
}

fn sequelize(tree: &Tree) -> Option<Layout> {
    let text = read(tree, ".sequelizerc")?;
    let at = text.find("migrations-path")? + "migrations-path".len();
    let rest = text[at..].trim_start_matches(['"', '\'']).trim_start();
    let dir = js_path(rest.strip_prefix(':')?)?;
    Some(Layout {
        source: ".sequelizerc".into(),
        watch: vec![dir.clone(), ".sequelizerc".into()],
        migration_files: Some(vec![format!("{dir}/*.{{js,cjs,ts}}")]),
        config_files: Vec::new(),
        migrations_dir: dir,
        ..Layout::default()
    })
}

fn typeorm(tree: &Tree) -> Option<Layout> {
    let source = tree
        .matches(
            "{,src/,src/db/,src/database/,src/config/}{data-source,datasource}.{ts,js,mjs,cjs}",
        )
        .into_iter()
        .next()?;
    let text = read(tree, &source)?;
    let base = source.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    // `migrations: ["src/migrations/*.ts"]`, `[__dirname + "/migrations/*.js"]`: the folder
    // before the first wildcard, relative to the data source's folder for `__dirname`.
    let mut watch = Vec::new();
    let at = text.find("migrations:")?;
    let list = &text[at..];
    let inside = &list[list.find('[')? + 1..];
    for (v, relative_to_file) in js_elements(inside).into_iter().filter_map(js_expr_path) {
        let v = v.trim_start_matches('/');
        let dir: Vec<&str> = v
            .split('/')
            .take_while(|s| !s.contains(['*', '?', '{']))
            .collect();
        let dir = dir.join("/");
        let dir = if relative_to_file && !base.is_empty() {
            format!("{base}/{dir}")
        } else {
            dir
        };
        if let Some(d) = clean(&dir).filter(|d| !watch.contains(d)) {
            watch.push(d);
        }
    }
    let migrations_dir = watch.first()?.clone();
    watch.push(source.clone());
    Some(Layout {
        source,
        watch,
        migration_files: None,
        config_files: Vec::new(),
        migrations_dir,
        ..Layout::default()
    })
}

/// Applies `layout` to a preset's `[tool]` keys: `watch` and `migration-files` replaced,
/// `config-files` extended.
pub fn apply(layout: &Layout, tool: &mut toml::Table) {
    let strings = |v: &[String]| toml::Value::Array(v.iter().cloned().map(Into::into).collect());
    if !layout.notes.is_empty() && layout.watch.is_empty() {
        // The config could not be read: nothing is guessed, every path is watched.
        tool.remove("watch");
        return;
    }
    if tool.contains_key("watch") && !layout.watch.is_empty() {
        tool.insert("watch".into(), strings(&layout.watch));
    }
    if let Some(toml::Value::Array(watch)) = tool.get_mut("watch") {
        for w in &layout.extra_watch {
            let w = toml::Value::from(w.as_str());
            if !watch.contains(&w) {
                watch.push(w);
            }
        }
    }
    if let Some(schema) = &layout.schema {
        if let Some(toml::Value::String(cmd)) = tool.get("model-check-command") {
            let cmd = cmd.replace("prisma/schema.prisma", schema);
            tool.insert("model-check-command".into(), cmd.into());
        }
        if let Some(toml::Value::Array(files)) = tool.get("config-files") {
            let files: Vec<toml::Value> = files
                .iter()
                .filter(|f| f.as_str() != Some("prisma/schema.prisma"))
                .cloned()
                .collect();
            tool.insert("config-files".into(), toml::Value::Array(files));
        }
    }
    if let Some(files) = &layout.migration_files {
        tool.insert("migration-files".into(), strings(files));
    }
    if !layout.config_files.is_empty() {
        let mut files: Vec<String> = tool
            .get("config-files")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for f in &layout.config_files {
            if !files.contains(f) {
                files.push(f.clone());
            }
        }
        tool.insert("config-files".into(), strings(&files));
    }
}

/// Every name the tool's own world uses for the migration its tracking table records as
/// `tracked`: the row itself, the file name with and without its extension, a Drizzle
/// journal tag, the Alembic revision file, a Django migration's name without its app.
pub fn migration_names(tool: &str, dir: &Path, tracked: &str) -> Vec<String> {
    let mut out = vec![tracked.to_owned()];
    let mut add = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    let tree = Tree::new(dir);
    let layout = of(tool, &tree);
    match tool {
        "drizzle" => {
            let out_dir = layout
                .as_ref()
                .map(|l| l.migrations_dir.clone())
                .unwrap_or_else(|| "drizzle".into());
            let when = tracked.strip_prefix("journal entry ").unwrap_or(tracked);
            let journal = std::fs::read_to_string(dir.join(&out_dir).join("meta/_journal.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
            for e in journal
                .as_ref()
                .and_then(|j| j["entries"].as_array())
                .into_iter()
                .flatten()
            {
                if e["when"].as_u64().is_some() && e["when"].as_u64() == when.parse::<u64>().ok() {
                    if let Some(tag) = e["tag"].as_str() {
                        add(tag.to_owned());
                        add(format!("{tag}.sql"));
                        add(format!("{out_dir}/{tag}.sql"));
                    }
                }
            }
        }
        "alembic" | "flask-migrate" => {
            let versions = layout
                .as_ref()
                .map(|l| l.migrations_dir.clone())
                .unwrap_or_else(|| "alembic/versions".into());
            for file in tree.files(&[format!("{versions}/*.py")]) {
                let Ok(text) = std::fs::read_to_string(dir.join(&file)) else {
                    continue;
                };
                let declares = text.lines().any(|l| {
                    let l = l.trim();
                    (l.starts_with("revision =") || l.starts_with("revision:"))
                        && (l.contains(&format!("\"{tracked}\""))
                            || l.contains(&format!("'{tracked}'")))
                });
                if declares {
                    let name = file.rsplit('/').next().unwrap_or(&file).to_owned();
                    add(name.trim_end_matches(".py").to_owned());
                    add(name);
                    add(file);
                }
            }
        }
        "django" => {
            if let Some((app, name)) = tracked.split_once('.') {
                add(name.to_owned());
                add(format!("{name}.py"));
                add(format!("{app}/migrations/{name}.py"));
            }
        }
        _ => {
            let base = tracked.rsplit('/').next().unwrap_or(tracked).to_owned();
            if let Some((stem, _)) = base.rsplit_once('.') {
                add(stem.to_owned());
            }
            add(base);
        }
    }
    out
}

/// Whether `allowed` (from `allow-migrations`) names the migration the tracking table records
/// as `tracked`.
pub fn allows(allowed: &[String], tool: &str, dir: &Path, tracked: &str) -> bool {
    if allowed.iter().any(|a| a == tracked) {
        return true;
    }
    migration_names(tool, dir, tracked)
        .iter()
        .any(|n| allowed.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn string_values_read_js_ts_json_and_ini_forms() {
        let ts = "export default defineConfig({ schema: [\"./src/a.ts\", './src/b.ts'], out: \"./lib/db/migrations\", dbCredentials: {} });";
        assert_eq!(string_values(ts, "out"), ["./lib/db/migrations"]);
        assert_eq!(string_values(ts, "schema"), ["./src/a.ts", "./src/b.ts"]);
        assert_eq!(
            string_values(r#"{"prisma": {"schema": "db/schema.prisma"}}"#, "schema"),
            ["db/schema.prisma"]
        );
        // `layout` is not `out`.
        assert!(string_values("layout: 'x'", "out").is_empty());
    }

    #[test]
    fn alembic_script_location_and_revision_names() {
        let d = tree(&[
            (
                "alembic.ini",
                "[alembic]\nscript_location = %(here)s/app/alembic\n[loggers]\nkeys = root\n",
            ),
            (
                "app/alembic/versions/e2412789c190_initialize.py",
                "revision = \"e2412789c190\"\ndown_revision = None\n",
            ),
        ]);
        let l = of("alembic", &Tree::new(d.path())).unwrap();
        assert_eq!(l.watch, ["alembic.ini", "app/alembic"]);
        assert_eq!(l.migrations_dir, "app/alembic/versions");
        let names = migration_names("alembic", d.path(), "e2412789c190");
        assert!(
            names.contains(&"e2412789c190_initialize".to_owned()),
            "{names:?}"
        );
        assert!(allows(
            &["e2412789c190_initialize.py".into()],
            "alembic",
            d.path(),
            "e2412789c190"
        ));
        assert!(!allows(
            &["other".into()],
            "alembic",
            d.path(),
            "e2412789c190"
        ));
    }

    #[test]
    fn drizzle_out_schema_and_journal_tags() {
        let d = tree(&[
            (
                "drizzle.config.ts",
                "export default { schema: \"./lib/db/schema.ts\", out: \"./lib/db/migrations\" };",
            ),
            (
                "lib/db/migrations/meta/_journal.json",
                r#"{"entries": [{"idx": 0, "when": 1796503753525, "tag": "0000_drop_legacy"}]}"#,
            ),
        ]);
        let mut t: toml::Table = toml::from_str(
            "watch = [\"drizzle\"]\nmigration-files = [\"drizzle/*.sql\"]\nconfig-files = [\"drizzle.config.ts\"]",
        )
        .unwrap();
        let l = of("drizzle", &Tree::new(d.path())).unwrap();
        apply(&l, &mut t);
        assert_eq!(
            t["watch"].as_array().unwrap().len(),
            3,
            "out, config and schema: {t}"
        );
        assert_eq!(
            t["migration-files"][0].as_str(),
            Some("lib/db/migrations/*.sql")
        );
        assert!(allows(
            &["0000_drop_legacy".into()],
            "drizzle",
            d.path(),
            "journal entry 1796503753525"
        ));
        assert!(!allows(
            &["0001_other".into()],
            "drizzle",
            d.path(),
            "journal entry 1796503753525"
        ));
    }

    #[test]
    fn diesel_sequelize_and_typeorm_folders() {
        let d = tree(&[
            ("diesel.toml", "[migrations_directory]\ndir = \"db/migrations\"\n"),
            (
                ".sequelizerc",
                "const path = require('path');\nmodule.exports = { 'migrations-path': path.resolve('db', 'migrate') };\n",
            ),
            (
                "src/data-source.ts",
                "export const ds = new DataSource({ migrations: [__dirname + \"/migrations/*.js\"] });",
            ),
        ]);
        let t = Tree::new(d.path());
        assert_eq!(
            of("diesel", &t).unwrap().watch,
            ["db/migrations", "diesel.toml"]
        );
        assert_eq!(
            of("sequelize", &t).unwrap().watch,
            ["db/migrate", ".sequelizerc"]
        );
        assert_eq!(
            of("typeorm", &t).unwrap().watch,
            ["src/migrations", "src/data-source.ts"]
        );
        assert_eq!(
            js_path("path.join(__dirname, \"x\", 'y')").as_deref(),
            Some("x/y")
        );
    }

    #[test]
    fn knex_directory_and_prisma_schema_path() {
        let d = tree(&[(
            "knexfile.js",
            "module.exports = { client: 'pg', migrations: { directory: './db/migrations' } };",
        )]);
        let l = of("knex", &Tree::new(d.path())).unwrap();
        assert_eq!(l.watch, ["db/migrations", "knexfile.js"]);
        for directory in [
            "__dirname + '/knex/migrations'",
            "path.join(__dirname, 'knex', 'migrations')",
            "path.resolve(__dirname, \"knex/migrations\")",
            "`${__dirname}/knex/migrations`",
            "['./knex/migrations']",
        ] {
            let text = format!(
                "module.exports = {{ dev: {{ migrations: {{ directory: {directory}, }}, seeds: {{ directory: __dirname + '/knex/seeds' }} }} }};"
            );
            let d = tree(&[("knexfile.js", text.as_str())]);
            let l = of("knex", &Tree::new(d.path())).unwrap();
            assert_eq!(l.watch, ["knex/migrations", "knexfile.js"], "{directory}");
        }
        let d = tree(&[(
            "package.json",
            r#"{"prisma": {"schema": "db/schema.prisma"}}"#,
        )]);
        let l = of("prisma", &Tree::new(d.path())).unwrap();
        assert_eq!(
            l.migration_files,
            Some(vec!["db/migrations/*/migration.sql".to_owned()])
        );
        assert!(allows(
            &["20240101_init".into()],
            "knex",
            d.path(),
            "20240101_init.js"
        ));
    }
}
