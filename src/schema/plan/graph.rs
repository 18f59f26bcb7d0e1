//! Walks of the dependency graph: creation order, and what depends on what changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::super::model::{DepKey, Deps};

/// Orders `keys` so that what a key depends on (per `deps`, transitively through keys not in
/// the set) comes first. Ties keep the input (sorted) order.
pub(super) fn topo(keys: &[DepKey], deps: &Deps) -> Vec<DepKey> {
    topo_with(keys, deps, &BTreeMap::new())
}

/// [`topo`] over `deps` plus `extra` edges (kept apart: `deps` is large and not copied).
pub(super) fn topo_with(keys: &[DepKey], deps: &Deps, extra: &Deps) -> Vec<DepKey> {
    struct Walk<'a> {
        set: BTreeSet<&'a DepKey>,
        deps: &'a Deps,
        extra: &'a Deps,
        done: BTreeSet<DepKey>,
        visiting: BTreeSet<DepKey>,
        out: Vec<DepKey>,
    }
    fn visit(w: &mut Walk<'_>, k: &DepKey) {
        if w.done.contains(k) || !w.visiting.insert(k.clone()) {
            return;
        }
        let next: Vec<DepKey> = w
            .deps
            .get(k)
            .into_iter()
            .chain(w.extra.get(k))
            .flatten()
            .cloned()
            .collect();
        for d in next {
            visit(w, &d);
        }
        w.visiting.remove(k);
        w.done.insert(k.clone());
        if w.set.contains(k) {
            w.out.push(k.clone());
        }
    }
    let mut w = Walk {
        set: keys.iter().collect(),
        deps,
        extra,
        done: BTreeSet::new(),
        visiting: BTreeSet::new(),
        out: Vec::new(),
    };
    for k in keys {
        visit(&mut w, k);
    }
    w.out
}

/// `deps` reversed: referenced key → the keys that depend on it.
pub(super) type Users<'a> = HashMap<&'a DepKey, Vec<&'a DepKey>>;

pub(super) fn users(deps: &Deps) -> Users<'_> {
    let mut out: Users<'_> = HashMap::new();
    for (k, ds) in deps {
        for d in ds {
            out.entry(d).or_default().push(k);
        }
    }
    out
}

/// Everything that (transitively) depends on any of `roots`, per `users`.
pub(super) fn dependents(roots: &BTreeSet<DepKey>, users: &Users<'_>) -> BTreeSet<DepKey> {
    let mut found: BTreeSet<DepKey> = BTreeSet::new();
    let mut frontier: Vec<&DepKey> = roots.iter().collect();
    while let Some(r) = frontier.pop() {
        for &k in users.get(r).into_iter().flatten() {
            if found.insert(k.clone()) {
                frontier.push(k);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topo_puts_dependencies_first() {
        use crate::schema::compact::SortedSet;
        let rel = |n: &str| DepKey::Rel(n.to_owned());
        let mut deps = BTreeMap::new();
        deps.insert(rel("a"), SortedSet::from([rel("b")]));
        deps.insert(rel("b"), SortedSet::from([rel("x")]));
        deps.insert(rel("x"), SortedSet::from([rel("c")]));
        let keys = vec![rel("a"), rel("b"), rel("c")];
        assert_eq!(topo(&keys, &deps), [rel("c"), rel("b"), rel("a")]);
    }

    #[test]
    fn keys_order_as_their_text_did() {
        let keys = [
            DepKey::Col("public.t.a".into()),
            DepKey::Con("public.t.c".into()),
            DepKey::Fn("public.f()".into()),
            DepKey::Index("public.i".into()),
            DepKey::Policy("public.t.p".into()),
            DepKey::Rel("public.t".into()),
            DepKey::Rel("public.u".into()),
            DepKey::Trigger("public.t.g".into()),
            DepKey::Type("public.e".into()),
        ];
        let mut by_text = keys.to_vec();
        by_text.sort_by_key(|k| k.to_string());
        let mut by_key = keys.to_vec();
        by_key.sort();
        assert_eq!(by_text, by_key);
    }
}
