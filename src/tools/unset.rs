//! A tool that could not start because the project's code read an environment variable
//! that is not set where neon-migrate runs it (a Django settings file reading
//! `os.environ.get("DJANGO_ALLOWED_HOSTS").split(" ")`, `os.environ["SECRET_KEY"]`), read
//! from the tool's own traceback so the help can name the variable and the line.

/// A variable the tool's code read and found unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unset {
    pub name: String,
    /// `settings.py:29`, when the traceback says where.
    pub at: Option<String>,
}

impl Unset {
    /// The help for it: where it is read, and how to set it.
    pub fn help(&self) -> String {
        let at = self
            .at
            .as_ref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        format!(
            "the project's code reads `{0}` from the environment{at} and it is not set where neon-migrate runs the tool: set it under [tool.env] in neon-migrate.toml (`{0} = \"…\"`, a value fit for a test Neon database branch), or export it before running neon-migrate",
            self.name
        )
    }
}

/// The variable a Python traceback shows unset: `KeyError: 'NAME'` raised by `os.environ[…]`,
/// or a `None` used (`'NoneType' object …`) on the line that read `os.environ.get("NAME")` /
/// `os.getenv("NAME")`. Only the traceback's last frame counts: a variable read earlier is
/// not why it failed.
pub fn from_traceback(output: &str) -> Option<Unset> {
    let lines: Vec<&str> = output.lines().map(strip_frame).collect();
    let start = lines
        .iter()
        .rposition(|l| l.contains("Traceback (most recent call last):"))?;
    let tb = &lines[start..];
    let last_error = tb
        .iter()
        .rposition(|l| is_exception_line(l))
        .map(|i| tb[i].trim())?;
    // The last frame: its `File "…", line N` and the source lines after it.
    let frame = tb
        .iter()
        .rposition(|l| l.trim_start().starts_with("File \""))?;
    let source: Vec<&str> = tb[frame + 1..]
        .iter()
        .copied()
        .take_while(|l| !is_exception_line(l))
        .collect();
    if let Some(key) = last_error.strip_prefix("KeyError: ") {
        // `os.environ["NAME"]` raises inside os.py: the frame that read it is the one whose
        // line indexes environ with that key.
        let key = key.trim_matches(['\'', '"']);
        let read = tb.iter().rposition(|l| {
            l.contains("environ[")
                && (l.contains(&format!("'{key}'")) || l.contains(&format!("\"{key}\"")))
        })?;
        let frame = tb[..read]
            .iter()
            .rposition(|l| l.trim_start().starts_with("File \""))?;
        return is_variable_name(key).then(|| Unset {
            name: key.to_owned(),
            at: location(tb[frame]),
        });
    }
    let name = source
        .iter()
        .find_map(|l| env_get(l))
        .filter(|_| last_error.contains("'NoneType'"))?;
    is_variable_name(&name).then(|| Unset {
        name,
        at: location(tb[frame]),
    })
}

/// A line of the report's quoted output (`│ …`) or the raw output.
fn strip_frame(l: &str) -> &str {
    let t = l.trim_start();
    t.strip_prefix('│')
        .map(|r| r.strip_prefix(' ').unwrap_or(r))
        .unwrap_or(l)
}

fn is_exception_line(l: &str) -> bool {
    let t = l.trim_start();
    !l.starts_with(' ')
        && t.split_once(": ")
            .or_else(|| t.split_once(':'))
            .is_some_and(|(class, _)| class.ends_with("Error") || class.ends_with("Exception"))
}

/// `File "/p/app/settings.py", line 29, in <module>` → `app/settings.py:29` (the last two
/// path components).
fn location(frame: &str) -> Option<String> {
    let path = frame.split('"').nth(1)?;
    let line = frame.split(", line ").nth(1)?.split(',').next()?.trim();
    let parts: Vec<&str> = path.rsplit('/').take(2).collect();
    let short = parts.into_iter().rev().collect::<Vec<_>>().join("/");
    Some(format!("{short}:{line}"))
}

/// The name in `os.environ.get("NAME"…)` or `os.getenv("NAME"…)` on a source line.
fn env_get(line: &str) -> Option<String> {
    ["environ.get(", "getenv("].iter().find_map(|call| {
        let rest = &line[line.find(call)? + call.len()..];
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let name = rest[1..].split(q).next()?;
        Some(name.to_owned())
    })
}

fn is_variable_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DJANGO: &str = r#"Traceback (most recent call last):
  File "/p/app/manage.py", line 22, in <module>
    main()
  File "/usr/lib/python3/site-packages/django/conf/__init__.py", line 217, in __init__
    mod = importlib.import_module(self.SETTINGS_MODULE)
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "/p/app/hello_django/settings.py", line 29, in <module>
    ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS").split(" ")
                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
AttributeError: 'NoneType' object has no attribute 'split'
"#;

    #[test]
    fn a_none_from_an_unset_variable_in_django_settings_is_named_with_its_line() {
        let u = from_traceback(DJANGO).expect("named");
        assert_eq!(u.name, "DJANGO_ALLOWED_HOSTS");
        assert_eq!(u.at.as_deref(), Some("hello_django/settings.py:29"));
        assert!(u.help().contains("[tool.env]"), "{}", u.help());
        // As quoted in neon-migrate's own report (`│ ` before each line).
        let quoted: String = DJANGO.lines().map(|l| format!("      │ {l}\n")).collect();
        assert_eq!(from_traceback(&quoted), Some(u));
    }

    #[test]
    fn a_key_error_of_os_environ_is_named() {
        let out = "Traceback (most recent call last):\n  File \"/p/settings.py\", line 3, in <module>\n    SECRET_KEY = os.environ['SECRET_KEY']\n  File \"/usr/lib/python3.11/os.py\", line 679, in __getitem__\n    raise KeyError(key) from None\nKeyError: 'SECRET_KEY'\n";
        // The last frame is os.py's: the frame named is the one that indexed environ.
        let u = from_traceback(out).expect("named");
        assert_eq!(
            (u.name.as_str(), u.at.as_deref()),
            ("SECRET_KEY", Some("p/settings.py:3"))
        );
        let direct = "Traceback (most recent call last):\n  File \"/p/settings.py\", line 3, in <module>\n    SECRET_KEY = os.environ['SECRET_KEY']\nKeyError: 'SECRET_KEY'\n";
        let u = from_traceback(direct).expect("named");
        assert_eq!(
            (u.name.as_str(), u.at.as_deref()),
            ("SECRET_KEY", Some("p/settings.py:3"))
        );
    }

    #[test]
    fn other_failures_name_nothing() {
        for out in [
            "Traceback (most recent call last):\n  File \"/p/settings.py\", line 3, in <module>\n    x = compute().split()\nAttributeError: 'NoneType' object has no attribute 'split'\n",
            "Traceback (most recent call last):\n  File \"/p/env.py\", line 9, in <module>\n    url = os.environ.get(\"DATABASE_URL\")\nModuleNotFoundError: No module named 'psycopg2'\n",
            "no traceback here: os.environ.get(\"X\") 'NoneType'",
        ] {
            assert_eq!(from_traceback(out), None, "{out}");
        }
    }
}
