//! Names as the catalog queries print them: `schema.table`, `schema.table.column`, each part
//! through `quote_ident`.

/// The keywords `quote_ident` quotes (every one not `UNRESERVED_KEYWORD` in PostgreSQL 18's
/// `kwlist.h`; 15's are a subset), sorted.
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// An identifier as `quote_ident` prints it: bare when it is a plain lower-case name that is
/// not a reserved (or column-name, type-or-function-name) keyword — the catalog queries key
/// objects that way. A constraint named `"user"` read as `user` here was never found in the
/// model: a false "not modeled" refusal (trial9 P12).
pub(crate) fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && QUOTED_KEYWORDS.binary_search(&name).is_err();
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
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("check"), "\"check\"");
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("name"), "name");
    }
}
