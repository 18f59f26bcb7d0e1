//! A failed statement told without its message. PostgreSQL's messages carry row values in
//! many shapes (`invalid input syntax for type integer: "ann"`, `date/time field value out
//! of range: 2020-13-09`, a trigger's own `RAISE … USING ERRCODE = '22023'` with any column in
//! its message and detail), more than any masking can know. Where a statement ran with row
//! values (the workload check's replayed requests), only the SQLSTATE and its condition
//! name are said, plus the message when it is one of a few fixed texts known to hold none.

/// Messages PostgreSQL writes word for word, without values; any other message is left out.
const VALUE_FREE: [&str; 6] = [
    "canceling statement due to lock timeout",
    "canceling statement due to statement timeout",
    "canceling statement due to user request",
    "canceling statement due to conflict with recovery",
    "deadlock detected",
    "terminating connection due to administrator command",
];

/// `cannot execute INSERT in a read-only transaction`, for a command PostgreSQL names there
/// (a fixed list: a message of that shape with anything else in it is not shown).
fn read_only(message: &str) -> bool {
    const COMMANDS: [&str; 9] = [
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "TRUNCATE TABLE",
        "SELECT FOR UPDATE",
        "SELECT FOR NO KEY UPDATE",
        "SELECT FOR SHARE",
        "nextval()",
    ];
    message
        .strip_prefix("cannot execute ")
        .and_then(|m| m.strip_suffix(" in a read-only transaction"))
        .is_some_and(|cmd| COMMANDS.contains(&cmd))
}

/// `SQLSTATE 23505 unique_violation`, plus the message only when it is one of
/// [`VALUE_FREE`]; a failure without a server answer (the connection) as
/// [`crate::pg::describe`] tells it (it holds no row values).
pub fn without_values(e: &tokio_postgres::Error) -> String {
    let Some(db) = e.as_db_error() else {
        return crate::pg::describe(e);
    };
    let code = db.code().code();
    let mut s = format!("SQLSTATE {code} {}", condition(code));
    if VALUE_FREE.contains(&db.message()) || read_only(db.message()) {
        s.push_str(&format!(": {}", db.message()));
    } else {
        s.push_str(" (the server's message is not shown: it can hold row values)");
    }
    s
}

/// The condition name of a SQLSTATE (PostgreSQL's errcodes appendix); for a code not listed,
/// the name of its class (`class 22 data_exception`).
pub fn condition(code: &str) -> String {
    if let Some((_, name)) = CODES.iter().find(|(c, _)| *c == code) {
        return (*name).to_owned();
    }
    let class = code.get(..2).unwrap_or("");
    match CLASSES.iter().find(|(c, _)| *c == class) {
        Some((_, name)) => format!("(class {class} {name})"),
        None => format!("(class {class})"),
    }
}

const CODES: [(&str, &str); 52] = [
    ("08000", "connection_exception"),
    ("08003", "connection_does_not_exist"),
    ("08006", "connection_failure"),
    ("0A000", "feature_not_supported"),
    ("21000", "cardinality_violation"),
    ("22000", "data_exception"),
    ("22001", "string_data_right_truncation"),
    ("22003", "numeric_value_out_of_range"),
    ("22007", "invalid_datetime_format"),
    ("22008", "datetime_field_overflow"),
    ("22012", "division_by_zero"),
    ("22021", "character_not_in_repertoire"),
    ("22023", "invalid_parameter_value"),
    ("22P02", "invalid_text_representation"),
    ("22P05", "untranslatable_character"),
    ("23000", "integrity_constraint_violation"),
    ("23001", "restrict_violation"),
    ("23502", "not_null_violation"),
    ("23503", "foreign_key_violation"),
    ("23505", "unique_violation"),
    ("23514", "check_violation"),
    ("23P01", "exclusion_violation"),
    ("25001", "active_sql_transaction"),
    ("25P02", "in_failed_sql_transaction"),
    ("25006", "read_only_sql_transaction"),
    ("28000", "invalid_authorization_specification"),
    ("28P01", "invalid_password"),
    ("2BP01", "dependent_objects_still_exist"),
    ("3D000", "invalid_catalog_name"),
    ("3F000", "invalid_schema_name"),
    ("40001", "serialization_failure"),
    ("40P01", "deadlock_detected"),
    ("42501", "insufficient_privilege"),
    ("42601", "syntax_error"),
    ("42702", "ambiguous_column"),
    ("42703", "undefined_column"),
    ("42704", "undefined_object"),
    ("42804", "datatype_mismatch"),
    ("42883", "undefined_function"),
    ("42P01", "undefined_table"),
    ("42P07", "duplicate_table"),
    ("53300", "too_many_connections"),
    ("55000", "object_not_in_prerequisite_state"),
    ("55P03", "lock_not_available"),
    ("57014", "query_canceled"),
    ("57P01", "admin_shutdown"),
    ("57P03", "cannot_connect_now"),
    ("P0001", "raise_exception"),
    ("P0002", "no_data_found"),
    ("P0003", "too_many_rows"),
    ("P0004", "assert_failure"),
    ("XX000", "internal_error"),
];

const CLASSES: [(&str, &str); 20] = [
    ("08", "connection_exception"),
    ("0A", "feature_not_supported"),
    ("21", "cardinality_violation"),
    ("22", "data_exception"),
    ("23", "integrity_constraint_violation"),
    ("25", "invalid_transaction_state"),
    ("28", "invalid_authorization_specification"),
    ("2B", "dependent_privilege_descriptors_still_exist"),
    ("38", "external_routine_exception"),
    ("39", "external_routine_invocation_exception"),
    ("3F", "invalid_schema_name"),
    ("40", "transaction_rollback"),
    ("42", "syntax_error_or_access_rule_violation"),
    ("53", "insufficient_resources"),
    ("54", "program_limit_exceeded"),
    ("55", "object_not_in_prerequisite_state"),
    ("57", "operator_intervention"),
    ("58", "system_error"),
    ("P0", "plpgsql_error"),
    ("XX", "internal_error"),
];

#[cfg(test)]
mod tests {
    use super::{condition, read_only};

    #[test]
    fn only_a_read_only_message_naming_a_known_command_is_shown() {
        assert!(read_only(
            "cannot execute INSERT in a read-only transaction"
        ));
        assert!(!read_only(
            "cannot execute ann@example.com in a read-only transaction"
        ));
    }

    #[test]
    fn sqlstates_are_named_by_their_condition_or_their_class() {
        assert_eq!(condition("23505"), "unique_violation");
        assert_eq!(condition("22023"), "invalid_parameter_value");
        assert_eq!(condition("22026"), "(class 22 data_exception)");
        assert_eq!(condition("ZZ999"), "(class ZZ)");
    }
}
