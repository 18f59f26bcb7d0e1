//! What a pre-push hook is given — the pushed refs, on stdin or from pre-commit's environment
//! — and what changed in each pushed range.

use std::path::Path;

use git2::{Oid, Repository};

use super::Watched;

/// A line of the hook's stdin that is not a pushed ref.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushedError {
    #[error("not a pre-push line (`<local ref> <local sha> <remote ref> <remote sha>`): {0}")]
    NotALine(String),
    #[error("not a commit id: {0}")]
    NotACommitId(String),
}

/// One line of the pre-push hook's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local: Oid,
    pub remote_ref: String,
    pub remote: Oid,
}

impl PushedRef {
    /// The git branch being pushed: the local git branch, else the remote one, else the
    /// short sha.
    pub fn git_branch(&self) -> (String, bool) {
        for r in [&self.local_ref, &self.remote_ref] {
            if let Some(b) = r.strip_prefix("refs/heads/") {
                return (b.to_owned(), false);
            }
        }
        (self.local.to_string()[..7].to_owned(), true)
    }
}

/// Parses what git writes to a pre-push hook's stdin: `<local ref> <local sha> <remote ref>
/// <remote sha>` per line.
pub fn parse_pushed(text: &str) -> Result<Vec<PushedRef>, PushedError> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local, remote_ref, remote] = f[..] else {
            return Err(PushedError::NotALine(line.to_owned()));
        };
        let oid = |s: &str| Oid::from_str(s).map_err(|_| PushedError::NotACommitId(s.to_owned()));
        out.push(PushedRef {
            local_ref: local_ref.to_owned(),
            local: oid(local)?,
            remote_ref: remote_ref.to_owned(),
            remote: oid(remote)?,
        });
    }
    Ok(out)
}

/// pre-commit reads the hook's stdin itself and passes one pushed range in the environment.
pub fn pushed_from_pre_commit() -> Option<PushedRef> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let to = Oid::from_str(&var("PRE_COMMIT_TO_REF")?).ok()?;
    let from = var("PRE_COMMIT_FROM_REF")
        .and_then(|f| Oid::from_str(&f).ok())
        .unwrap_or_else(Oid::zero);
    Some(PushedRef {
        local_ref: var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| to.to_string()),
        local: to,
        remote_ref: var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
        remote: from,
    })
}

/// The tip of the remote's default git branch: `refs/remotes/<remote>/HEAD`, else its `main`
/// or `master`. `remote` may be a URL (a push to a URL): the remote with that URL is used.
pub fn default_tip(repo: &Repository, remote: &str, url: &str) -> Option<(String, Oid)> {
    let mut names = vec![remote.to_owned()];
    if let Ok(remotes) = repo.remotes() {
        for name in remotes.iter().flatten() {
            let same = repo
                .find_remote(name)
                .ok()
                .and_then(|r| r.url().map(|u| u == url || u == remote))
                .unwrap_or(false);
            if same && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    for name in &names {
        for leaf in ["HEAD", "main", "master"] {
            let refname = format!("refs/remotes/{name}/{leaf}");
            if let Ok(r) = repo.find_reference(&refname) {
                if let Ok(resolved) = r.resolve() {
                    if let Some(oid) = resolved.target() {
                        let shown = resolved
                            .name()
                            .and_then(|n| n.strip_prefix("refs/remotes/"))
                            .unwrap_or(&refname)
                            .to_owned();
                        return Some((shown, oid));
                    }
                }
            }
        }
    }
    None
}

/// The commit a pushed range starts from, and how it was chosen. `None`: nothing to compare
/// with, every file of the pushed commit counts.
pub fn range_base(
    repo: &Repository,
    r: &PushedRef,
    remote: &str,
    url: &str,
) -> (Option<Oid>, String) {
    if !r.remote.is_zero() && repo.find_commit(r.remote).is_ok() {
        return (Some(r.remote), format!("since {}", short(r.remote)));
    }
    let why = if r.remote.is_zero() {
        "new git branch"
    } else {
        "remote tip not fetched"
    };
    match default_tip(repo, remote, url) {
        Some((name, tip)) => match repo.merge_base(r.local, tip) {
            Ok(base) => (
                Some(base),
                format!("since its merge-base {} with {name} ({why})", short(base)),
            ),
            Err(_) => (
                None,
                format!("every file: no common history with {name} ({why})"),
            ),
        },
        None => (
            None,
            format!("every file: the remote has no default git branch to compare with ({why})"),
        ),
    }
}

pub fn short(oid: Oid) -> String {
    oid.to_string()[..7].to_owned()
}

/// Files under the watched paths that differ between `base` and `head` (all of them when
/// there is no base). Compares the watched entries' object ids first, which decides the
/// common no-op case without walking any tree.
pub fn watched_changes(
    repo: &Repository,
    base: Option<Oid>,
    head: Oid,
    watched: &Watched,
) -> Result<Vec<String>, git2::Error> {
    let new = repo.find_commit(head)?.tree()?;
    let old = match base {
        Some(b) => Some(repo.find_commit(b)?.tree()?),
        None => None,
    };
    let paths: &[String] = match watched {
        Watched::Paths(p) => p,
        Watched::Everything(_) => &[],
    };
    if let (Some(old), Watched::Paths(_)) = (&old, watched) {
        let id = |t: &git2::Tree, p: &str| t.get_path(Path::new(p)).ok().map(|e| e.id());
        if paths.iter().all(|p| id(old, p) == id(&new, p)) {
            return Ok(Vec::new());
        }
    }
    let mut opts = git2::DiffOptions::new();
    for p in paths {
        opts.pathspec(p);
    }
    let diff = repo.diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))?;
    Ok(diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_lines_parse_and_name_the_git_branch() {
        let a = "1".repeat(40);
        let z = "0".repeat(40);
        let text = format!(
            "refs/heads/feature/x {a} refs/heads/feature/x {z}\n\n(delete) {z} refs/heads/gone {a}\nHEAD {a} refs/heads/topic {z}\n"
        );
        let refs = parse_pushed(&text).expect("parses");
        assert_eq!(refs.len(), 3);
        assert_eq!(refs[0].git_branch(), ("feature/x".to_owned(), false));
        assert!(refs[0].remote.is_zero());
        assert!(refs[1].local.is_zero());
        assert_eq!(refs[2].git_branch(), ("topic".to_owned(), false));
        let sha_only = PushedRef {
            local_ref: a.clone(),
            local: Oid::from_str(&a).unwrap(),
            remote_ref: "refs/tags/v1".into(),
            remote: Oid::zero(),
        };
        assert_eq!(sha_only.git_branch(), ("1111111".to_owned(), true));
        assert!(parse_pushed("refs/heads/x abc").is_err());
        assert!(parse_pushed(&format!("a nothex b {z}")).is_err());
    }
}
