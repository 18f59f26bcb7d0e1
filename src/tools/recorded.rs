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

/// The files no tracking row records (paths relative to the working folder), or `None` when
/// the rows cannot be mapped to files at all.
pub fn unrecorded(
    tool: &str,
    dir: &Path,
    rows: &[String],
    files: &[String],
) -> Option<Vec<String>> {
    let mut names = BTreeSet::new();
    for row in rows {
        names.extend(layout::migration_names(tool, dir, row));
    }
    let versions: Vec<String> = rows
        .iter()
        .map(|r| alnum(r))
        .filter(|r| r.len() >= 8 && r.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let recorded = |file: &str| -> bool {
        // Django migration names repeat across apps (`0001_initial`): only the app's own path
        // identifies one.
        if tool == "django" {
            return names
                .iter()
                .any(|n| n.contains('/') && (file == n || file.ends_with(&format!("/{n}"))));
        }
        let name = file.rsplit('/').next().unwrap_or(file);
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
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
            || versions.iter().any(|v| alnum(id).starts_with(v.as_str()))
    };
    let missing: Vec<String> = files.iter().filter(|f| !recorded(f)).cloned().collect();
    if missing.len() == files.len() && !files.is_empty() {
        return None;
    }
    Some(missing)
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
    fn rows_that_name_no_file_cannot_be_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let rows = strings(&["CreateWidgets1704067200000", "1"]);
        let files = strings(&["src/migrations/1704067200000-CreateWidgets.ts"]);
        assert_eq!(unrecorded("typeorm", dir.path(), &rows, &files), None);
    }
}
