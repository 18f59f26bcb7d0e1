//! Which of the project's migration files the tool's tracking table records — by name, not by
//! count. A count is fooled by rows that name other migrations: Django's table also records
//! the built-in apps (an app left out of `INSTALLED_APPS` adds a file and no row), and Drizzle
//! Kit skips a journal entry older than the newest applied one while the row count still
//! matches an earlier state. Each tracking row is expanded to the names the tool's world uses
//! for it ([`layout::migration_names`]: file name, journal tag, `app/migrations/name.py`), and
//! every file must be one of them.
//!
//! Rows that name no file at all (a tool whose rows are class names, or ids the files do not
//! carry) cannot be mapped: the caller then says that only the number of rows was compared.

use std::collections::BTreeSet;
use std::path::Path;

use crate::tools::layout;

/// The names a set of tracking rows gives their migrations, and the version numbers among
/// them.
struct Names {
    names: BTreeSet<String>,
    versions: Vec<String>,
    /// The rows' letters and digits (`1 create_widgets` → `1createwidgets`).
    squashed: Vec<String>,
}

impl Names {
    fn of(tool: &str, dir: &Path, rows: &[String]) -> Names {
        let mut names = BTreeSet::new();
        for row in rows {
            names.extend(layout::migration_names(tool, dir, row));
        }
        let versions = rows
            .iter()
            .map(|r| alnum(r))
            .filter(|r| r.len() >= 8 && r.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let squashed = rows
            .iter()
            .map(|r| alnum(r))
            .filter(|r| r.len() >= 3)
            .collect();
        Names {
            names,
            versions,
            squashed,
        }
    }

    /// Whether `file` (relative to the working folder) is one of these migrations.
    fn name(&self, tool: &str, file: &str) -> bool {
        let names = &self.names;
        // Django migration names repeat across apps (`0001_initial`): only the app's own path
        // identifies one.
        if tool == "django" {
            return names
                .iter()
                .any(|n| n.contains('/') && (file == n || file.ends_with(&format!("/{n}"))));
        }
        let name = file.rsplit('/').next().unwrap_or(file);
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        let stem = stem
            .strip_suffix(".up")
            .or_else(|| stem.strip_suffix(".down"))
            .unwrap_or(stem);
        // `prisma/migrations/<name>/migration.sql`, `migrations/<name>/up.sql`: the folder is
        // the migration.
        let folder = file.rsplit('/').nth(1).unwrap_or("");
        let id = if matches!(stem, "migration" | "up" | "down") {
            folder
        } else {
            stem
        };
        names.contains(file)
            || names.contains(name)
            || names.contains(id)
            || names.iter().any(|n| n.contains('/') && file.ends_with(n.as_str()))
            // Version-numbered tools record only the number the file name starts with.
            || self.versions.iter().any(|v| alnum(id).starts_with(v.as_str()))
            // `version name` rows (sqlx, refinery): the file's letters and digits end with the
            // row's (`V1__create_widgets` ends with `1createwidgets`), not inside a longer
            // number (`V11__…`).
            || self.squashed.iter().any(|r| {
                let id = alnum(id);
                id.strip_suffix(r.as_str())
                    .is_some_and(|before| !before.ends_with(|c: char| c.is_ascii_digit()))
            })
    }
}

/// The files no tracking row records (paths relative to the working folder), or `None` when
/// the rows cannot be mapped to files at all.
pub fn unrecorded(
    tool: &str,
    dir: &Path,
    rows: &[String],
    files: &[String],
) -> Option<Vec<String>> {
    let names = Names::of(tool, dir, rows);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !names.name(tool, f))
        .cloned()
        .collect();
    if missing.len() == files.len() && !files.is_empty() {
        return None;
    }
    Some(missing)
}

/// Whether a tracking row of `rows` records `file` (relative to the working folder).
pub fn records(tool: &str, dir: &Path, rows: &[String], file: &str) -> bool {
    Names::of(tool, dir, rows).name(tool, file)
}

/// The SQL files of the migrations `applied` names, in their order (a down file never), or
/// `None` when one of them has no SQL file among `files`: what `lint` reads for a tool
/// without a print-SQL mode whose migrations are plain SQL (Drizzle, Prisma, sqlx, dbmate,
/// diesel, refinery, Flyway).
pub fn sql_files_of(
    tool: &str,
    dir: &Path,
    applied: &[String],
    files: &[String],
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for row in applied {
        let names = Names::of(tool, dir, std::slice::from_ref(row));
        let mine: Vec<&String> = files
            .iter()
            .filter(|f| {
                f.ends_with(".sql") && !f.ends_with(".down.sql") && !f.ends_with("/down.sql")
            })
            .filter(|f| names.name(tool, f))
            .collect();
        if mine.is_empty() {
            return None;
        }
        for f in mine {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
    }
    Some(out)
}

/// Lower-case letters and digits of `s`.
fn alnum(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn django_files_are_recorded_only_under_their_own_app() {
        let dir = tempfile::tempdir().unwrap();
        let rows = strings(&["auth.0001_initial", "shop.0001_initial"]);
        let files = strings(&[
            "shop/migrations/0001_initial.py",
            "billing/migrations/0001_initial.py",
        ]);
        assert_eq!(
            unrecorded("django", dir.path(), &rows, &files),
            Some(strings(&["billing/migrations/0001_initial.py"]))
        );
    }

    #[test]
    fn version_numbers_and_folders_name_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let rows = strings(&["20240101120000", "20240102120000"]);
        let files = strings(&[
            "migrations/20240101120000_create.sql",
            "migrations/2024-01-02-120000_name/up.sql",
            "migrations/20240103120000_new.sql",
        ]);
        assert_eq!(
            unrecorded("sqlx", dir.path(), &rows, &files),
            Some(strings(&["migrations/20240103120000_new.sql"]))
        );
        let rows = strings(&["20240101_init"]);
        let files = strings(&["prisma/migrations/20240101_init/migration.sql"]);
        assert_eq!(
            unrecorded("prisma", dir.path(), &rows, &files),
            Some(vec![])
        );
    }

    #[test]
    fn applied_rows_give_their_sql_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let files = strings(&[
            "migrations/20240101120000_a.sql",
            "migrations/20240101120000_a.down.sql",
            "migrations/20240102120000_b.sql",
        ]);
        assert_eq!(
            sql_files_of(
                "sqlx",
                dir.path(),
                &strings(&["20240102120000", "20240101120000"]),
                &files
            ),
            Some(strings(&[
                "migrations/20240102120000_b.sql",
                "migrations/20240101120000_a.sql"
            ]))
        );
        assert_eq!(
            sql_files_of("sqlx", dir.path(), &strings(&["CreateA"]), &files),
            None
        );
    }

    #[test]
    fn version_and_name_rows_match_their_files_but_not_a_longer_number() {
        let dir = tempfile::tempdir().unwrap();
        let rows = strings(&["1 create_widgets", "20240101000000 create_widgets"]);
        let files = strings(&[
            "migrations/V1__create_widgets.sql",
            "migrations/20240101000000_create_widgets.up.sql",
            "migrations/V11__create_widgets.sql",
        ]);
        assert_eq!(
            unrecorded("refinery", dir.path(), &rows, &files),
            Some(strings(&["migrations/V11__create_widgets.sql"]))
        );
    }

    #[test]
    fn rows_that_name_no_file_cannot_be_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let rows = strings(&["CreateWidgets1704067200000", "1"]);
        let files = strings(&["src/migrations/1704067200000-CreateWidgets.ts"]);
        assert_eq!(unrecorded("typeorm", dir.path(), &rows, &files), None);
    }
}
