//! The architecture's rules, measured on the source (issue 16). Each test parses every file under
//! `src/` with `syn` and lists every place that breaks its rule, so a failure is a to-do list.
//!
//! * no file over [`MAX_FILE_LINES`] lines;
//! * no function (free, method, trait default, closure excluded) over [`MAX_FN_LINES`] lines,
//!   measured from the `fn` keyword's line to the closing brace's line, inclusive;
//! * no `Result<_, String>`: errors are types;
//! * no SQLSTATE compared as text (`.contains("55P03")`, `== "57014"`, a match arm): the
//!   `tokio_postgres::error::SqlState` constants instead;
//! * `Command::new` only in the runner and the embedded cluster's start-up;
//! * nothing below `src/commands/` imports from it (only `cli.rs` and `main.rs` may).

use std::fs;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

const MAX_FILE_LINES: usize = 1000;
const MAX_FN_LINES: usize = 150;
/// The files that may spawn a process with `Command::new`.
const SPAWNERS: &[&str] = &["src/runner.rs", "src/providers/local/cluster.rs"];
/// SQLSTATEs the product reacts to; none of them may appear in a string literal.
const SQLSTATES: &[&str] = &[
    "55P03", "57014", "40001", "40P01", "23505", "23502", "23503", "23514", "42P01", "42703",
    "42704", "3D000", "28P01", "53300", "57P01", "25006", "0A000", "42501", "08006", "08001",
    "42P04", "42P06", "42710", "55006",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `src/`, as (path relative to the crate root, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("src"), &mut files);
    assert!(
        files.len() > 20,
        "found only {} source files under src/",
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root())
                .expect("under the crate root")
                .to_string_lossy()
                .into_owned();
            let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {rel}: {e}"));
            (rel, text)
        })
        .collect()
}

fn parse(rel: &str, text: &str) -> syn::File {
    syn::parse_file(text).unwrap_or_else(|e| panic!("{rel} does not parse: {e}"))
}

fn report(rule: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{rule}: {} place(s)\n  {}",
        violations.len(),
        violations.join("\n  ")
    );
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let mut bad = Vec::new();
    let mut all = Vec::new();
    for (rel, text) in sources() {
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            bad.push(format!("{rel}: {n} lines"));
        }
        all.push((n, rel));
    }
    all.sort_by_key(|a| std::cmp::Reverse(a.0));
    println!("the five largest of {} files:", all.len());
    for (n, rel) in all.iter().take(5) {
        println!("  {rel}: {n} lines");
    }
    report(&format!("files over {MAX_FILE_LINES} lines"), bad);
}

struct FnLengths<'a> {
    rel: &'a str,
    found: Vec<(usize, String)>,
    all: Vec<(usize, String)>,
    measured: usize,
}

impl FnLengths<'_> {
    fn check(&mut self, name: &syn::Ident, span: proc_macro2::Span) {
        let (start, end) = (span.start().line, span.end().line);
        self.measured += 1;
        let n = end + 1 - start;
        let at = format!("{}:{start} fn {name}: {n} lines", self.rel);
        if n > MAX_FN_LINES {
            self.found.push((n, at.clone()));
        }
        self.all.push((n, at));
    }
}

impl<'ast> Visit<'ast> for FnLengths<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check(&f.sig.ident, f.span());
        visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check(&f.sig.ident, f.span());
        visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if f.default.is_some() {
            self.check(&f.sig.ident, f.span());
        }
        visit::visit_trait_item_fn(self, f);
    }
}

#[test]
fn no_function_is_over_the_line_limit() {
    let mut bad = Vec::new();
    let mut all = Vec::new();
    let mut measured = 0;
    for (rel, text) in sources() {
        let file = parse(&rel, &text);
        let mut v = FnLengths {
            rel: &rel,
            found: Vec::new(),
            all: Vec::new(),
            measured: 0,
        };
        v.visit_file(&file);
        measured += v.measured;
        all.extend(v.all);
        bad.extend(v.found);
    }
    assert!(measured > 500, "measured only {measured} functions");
    all.sort_by_key(|b| std::cmp::Reverse(b.0));
    // `cargo test --test architecture -- --nocapture` shows the longest ones.
    println!("the five longest of {measured} functions:");
    for (_, f) in all.iter().take(5) {
        println!("  {f}");
    }
    bad.sort_by_key(|b| std::cmp::Reverse(b.0));
    report(
        &format!("functions over {MAX_FN_LINES} lines (of {measured} measured)"),
        bad.into_iter().map(|(_, s)| s).collect(),
    );
}

struct StringErrors<'a> {
    rel: &'a str,
    found: Vec<String>,
}

impl<'ast> Visit<'ast> for StringErrors<'_> {
    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        if let Some(last) = t.path.segments.last() {
            if last.ident == "Result" {
                if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                    let types: Vec<_> = args
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            syn::GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                        .collect();
                    if let [_, syn::Type::Path(e)] = types.as_slice() {
                        if e.qself.is_none() && e.path.is_ident("String") {
                            self.found.push(format!(
                                "{}:{} Result<_, String>",
                                self.rel,
                                t.span().start().line
                            ));
                        }
                    }
                }
            }
        }
        visit::visit_type_path(self, t);
    }
}

#[test]
fn no_result_has_a_string_error() {
    let mut bad = Vec::new();
    for (rel, text) in sources() {
        let mut v = StringErrors {
            rel: &rel,
            found: Vec::new(),
        };
        v.visit_file(&parse(&rel, &text));
        bad.extend(v.found);
    }
    report("Result<_, String>", bad);
}

struct SqlStateText<'a> {
    rel: &'a str,
    found: Vec<String>,
}

impl SqlStateText<'_> {
    /// A string literal holding a known SQLSTATE, used in a comparison.
    fn literal(&mut self, e: &syn::Expr, how: &str) {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = e
        {
            let value = s.value();
            for code in SQLSTATES.iter().filter(|c| value.contains(*c)) {
                self.found.push(format!(
                    "{}:{} SQLSTATE {code} matched as text ({how})",
                    self.rel,
                    s.span().start().line
                ));
            }
        }
    }
}

impl<'ast> Visit<'ast> for SqlStateText<'_> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        if [
            "contains",
            "starts_with",
            "ends_with",
            "find",
            "matches",
            "eq",
        ]
        .contains(&name.as_str())
        {
            for a in &m.args {
                self.literal(a, &format!(".{name}()"));
            }
        }
        visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        if matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) {
            self.literal(&b.left, "==");
            self.literal(&b.right, "==");
        }
        visit::visit_expr_binary(self, b);
    }
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        fn lits(p: &syn::Pat, out: &mut Vec<syn::Expr>) {
            match p {
                syn::Pat::Lit(l) => out.push(syn::Expr::Lit(l.clone())),
                syn::Pat::Or(o) => o.cases.iter().for_each(|c| lits(c, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        lits(&a.pat, &mut found);
        for e in &found {
            self.literal(e, "match arm");
        }
        visit::visit_arm(self, a);
    }
}

#[test]
fn no_sqlstate_is_matched_as_text() {
    let mut bad = Vec::new();
    for (rel, text) in sources() {
        let mut v = SqlStateText {
            rel: &rel,
            found: Vec::new(),
        };
        v.visit_file(&parse(&rel, &text));
        bad.extend(v.found);
    }
    report("SQLSTATEs as text", bad);
}

struct Spawns<'a> {
    rel: &'a str,
    found: Vec<String>,
}

impl<'ast> Visit<'ast> for Spawns<'_> {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segs.len() >= 2 && segs[segs.len() - 2] == "Command" && segs[segs.len() - 1] == "new"
            {
                self.found.push(format!(
                    "{}:{} {}",
                    self.rel,
                    c.span().start().line,
                    segs.join("::")
                ));
            }
        }
        visit::visit_expr_call(self, c);
    }
}

#[test]
fn processes_are_spawned_only_by_the_runner_and_the_cluster_start_up() {
    let mut bad = Vec::new();
    let mut seen = 0;
    for (rel, text) in sources() {
        let mut v = Spawns {
            rel: &rel,
            found: Vec::new(),
        };
        v.visit_file(&parse(&rel, &text));
        if SPAWNERS.contains(&rel.as_str()) {
            seen += v.found.len();
        } else {
            bad.extend(v.found);
        }
    }
    assert!(
        seen > 0,
        "the runner spawns nothing? the rule measures nothing"
    );
    report("Command::new outside the runner and the cluster", bad);
}

struct CommandImports<'a> {
    rel: &'a str,
    found: Vec<String>,
}

impl<'ast> Visit<'ast> for CommandImports<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segs
            .windows(2)
            .any(|w| w[0] == "crate" && w[1] == "commands")
            || segs.first().is_some_and(|s| s == "commands")
        {
            self.found.push(format!(
                "{}:{} {}",
                self.rel,
                p.span().start().line,
                segs.join("::")
            ));
        }
        visit::visit_path(self, p);
    }
    fn visit_use_tree(&mut self, t: &'ast syn::UseTree) {
        fn names(t: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            match t {
                syn::UseTree::Path(p) => {
                    prefix.push(p.ident.to_string());
                    names(&p.tree, prefix, out);
                    prefix.pop();
                }
                syn::UseTree::Name(n) => {
                    let mut v = prefix.clone();
                    v.push(n.ident.to_string());
                    out.push(v);
                }
                syn::UseTree::Rename(r) => {
                    let mut v = prefix.clone();
                    v.push(r.ident.to_string());
                    out.push(v);
                }
                syn::UseTree::Glob(_) => out.push(prefix.clone()),
                syn::UseTree::Group(g) => {
                    for t in &g.items {
                        names(t, prefix, out);
                    }
                }
            }
        }
        let mut all = Vec::new();
        names(t, &mut Vec::new(), &mut all);
        for segs in all {
            if segs
                .windows(2)
                .any(|w| w[0] == "crate" && w[1] == "commands")
                || segs
                    .windows(2)
                    .any(|w| w[0] == "super" && w[1] == "commands")
            {
                self.found.push(format!(
                    "{}:{} use {}",
                    self.rel,
                    t.span().start().line,
                    segs.join("::")
                ));
            }
        }
    }
}

#[test]
fn nothing_below_the_commands_imports_from_them() {
    let allowed = |rel: &str| {
        rel.starts_with("src/commands/")
            || rel == "src/commands.rs"
            || rel == "src/cli.rs"
            || rel == "src/main.rs"
            || rel == "src/lib.rs"
    };
    assert!(
        root().join("src/commands").is_dir(),
        "src/commands/ does not exist: the subcommands have no room of their own"
    );
    let mut bad = Vec::new();
    for (rel, text) in sources() {
        if allowed(&rel) {
            continue;
        }
        let mut v = CommandImports {
            rel: &rel,
            found: Vec::new(),
        };
        v.visit_file(&parse(&rel, &text));
        bad.extend(v.found);
    }
    report("imports of the commands from below them", bad);
}
