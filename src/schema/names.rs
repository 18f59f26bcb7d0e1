//! Names as the catalog queries print them: `schema.table`, `schema.table.column`, each part
//! through `quote_ident`.

/// An identifier as `quote_ident` prints it: bare when it is a plain lower-case name (the
/// catalog queries key objects that way). Keywords are not known here; they are rare in names.
pub(crate) fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        crate::pg::ident(name)
    }
}

/// Splits a qualified name at its last `.` outside double quotes: `public."a.b"` →
/// (`public`, `"a.b"`), `public.t.c` → (`public.t`, `c`). `None` without such a dot.
pub(crate) fn split_qualified(name: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let mut last = None;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => last = Some(i),
            _ => {}
        }
    }
    last.map(|i| (&name[..i], &name[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_split_outside_quotes() {
        assert_eq!(split_qualified("public.t"), Some(("public", "t")));
        assert_eq!(split_qualified("public.t.c"), Some(("public.t", "c")));
        assert_eq!(
            split_qualified("\"my.schema\".\"a.b\""),
            Some(("\"my.schema\"", "\"a.b\""))
        );
        assert_eq!(split_qualified("\"a.b\""), None);
        assert_eq!(quote_ident("Mixed"), "\"Mixed\"");
        assert_eq!(quote_ident("t_1"), "t_1");
    }
}
