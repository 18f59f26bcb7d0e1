//! `neon_migrate::gitindex`: the hook's own reader of git index files agrees with libgit2 on
//! every index version git writes, and refuses (so the hook falls back to libgit2) whatever it
//! cannot be sure of.

use std::path::Path;
use std::process::Command;

use neon_migrate::gitindex::paths_named;

/// Writes `bytes` as an index file and reads it back.
fn scan(bytes: &[u8], hash_len: usize) -> Option<Vec<Vec<u8>>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("index");
    std::fs::write(&f, bytes).expect("write");
    paths_named(&f, b"neon-migrate.toml", hash_len)
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

/// A repository with configs at the root and in folders, plus near-misses, in every index
/// version git writes; the reader must agree with libgit2 on each.
#[test]
fn finds_exactly_what_libgit2_finds_in_index_versions_2_3_and_4() {
    let files = [
        "neon-migrate.toml",
        "apps/api/neon-migrate.toml",
        "apps/web/not-neon-migrate.toml",
        "apps/web/neon-migrate.toml.example",
        "a/very/deep/folder/with/a/long/name/that/goes/on/neon-migrate.toml",
        "x/neon-migrate.tomlx",
        "zz/README.md",
    ];
    for version in ["2", "3", "4"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, f).expect("write");
        }
        git(root, &["add", "-A"]);
        // Version 3 is written only when an entry needs extended flags.
        git(root, &["update-index", "--index-version", version]);
        if version == "3" {
            std::fs::write(root.join("zz/new.txt"), "n").expect("write");
            git(root, &["add", "--intent-to-add", "zz/new.txt"]);
        }
        let index = root.join(".git/index");
        let raw = std::fs::read(&index).expect("index");
        let written = u32::from_be_bytes(raw[4..8].try_into().expect("4 bytes"));
        assert_eq!(written.to_string(), version, "git wrote another version");
        let mut ours: Vec<String> = paths_named(&index, b"neon-migrate.toml", 20)
            .unwrap_or_else(|| panic!("version {version} not read"))
            .into_iter()
            .map(|p| String::from_utf8(p).expect("utf-8"))
            .collect();
        ours.sort();
        let repo = git2::Repository::open(root).expect("open");
        let mut theirs: Vec<String> = repo
            .index()
            .expect("index")
            .iter()
            .map(|e| String::from_utf8(e.path).expect("utf-8"))
            .filter(|p| p == "neon-migrate.toml" || p.ends_with("/neon-migrate.toml"))
            .collect();
        theirs.sort();
        assert_eq!(ours, theirs, "index version {version}");
        assert_eq!(ours.len(), 3, "index version {version}: {ours:?}");
    }
}

#[test]
fn refuses_what_it_cannot_be_sure_of() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q"]);
    std::fs::write(root.join("neon-migrate.toml"), "x").expect("write");
    git(root, &["add", "-A"]);
    let index = root.join(".git/index");
    let good = std::fs::read(&index).expect("index");
    assert!(scan(&good, 20).is_some());
    // The wrong object-name length, a cut file, another signature, an unknown version.
    assert!(scan(&good, 32).is_none());
    assert!(scan(&good[..good.len() - 30], 20).is_none());
    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(scan(&bad, 20).is_none());
    let mut bad = good.clone();
    bad[7] = 9;
    assert!(scan(&bad, 20).is_none());
    // A split index: its entries live in another file.
    git(root, &["update-index", "--split-index"]);
    let split = std::fs::read(&index).expect("index");
    assert!(scan(&split, 20).is_none());
}
