//! Secrets that cannot be printed by accident, and the redaction filter every piece of output
//! goes through.
//!
//! A connection string carries a password and the Neon API key is a bearer token; both must
//! never reach stdout, stderr, logs, JSON or reports — including what child tools print. Two
//! layers make that hold: [`Secret`] has no `Display` and a masked `Debug`, so a secret only
//! leaves it through an explicit `expose()`; and [`Redactor`] scrubs every known secret value
//! (plus any `scheme://user:password@` shape) from text before it is shown.

use std::fmt;
use std::sync::{Arc, RwLock};

/// A value that is masked in `Debug` and has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }
    /// The only way out: call sites that use it are easy to audit with grep.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// A secret read from JSON (a connection URI in a Neon API answer) is a secret from the start.
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

/// What replaces a secret in output.
pub const MASK: &str = "****";

/// Scrubs secrets from text. Cheap to clone; every clone shares the same set, so a password
/// learned late (a freshly created Neon database branch) is redacted everywhere from then on.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value. Values shorter than 4 characters are ignored: masking every
    /// "a" in the output would destroy it without protecting anything.
    pub fn add(&self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        let mut secrets = self.secrets.write().expect("redactor lock poisoned");
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_owned());
            // Longest first, so a URL is masked whole before its password alone.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        // The percent-encoded form appears in URLs.
        let encoded = crate::pg::percent_encode(secret);
        if encoded != secret && !secrets.contains(&encoded) {
            secrets.push(encoded);
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Registers the password of a connection URL.
    pub fn add_url(&self, url: &str) {
        if let Some(password) = url_password(url) {
            self.add(&password);
            self.add(&crate::pg::percent_decode(&password));
        }
    }

    /// Returns `text` with every registered secret and every URL password masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets.read().expect("redactor lock poisoned").iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        crate::row_values::mask(&mask_url_passwords(&out))
    }
}

/// The password of a connection string, if any (still percent-encoded): the one of
/// `scheme://user:password@host…`, else a `password=…` parameter in the URL's query, or in a
/// key=value connection string (`host=h password=…`).
pub fn url_password(url: &str) -> Option<String> {
    if let Some(p) = userinfo_password(url) {
        return Some(p);
    }
    let range = password_params(url).into_iter().next()?;
    let value = &url[range];
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(value);
    (!value.is_empty()).then(|| value.to_owned())
}

/// Every password written in `url`: the userinfo's, then each `password=` parameter's.
pub fn url_passwords(url: &str) -> Vec<String> {
    let params = password_params(url).into_iter().map(|range| {
        let value = &url[range];
        value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(value)
            .to_owned()
    });
    userinfo_password(url)
        .into_iter()
        .chain(params)
        .filter(|v| !v.is_empty())
        .collect()
}

fn userinfo_password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    let password = &userinfo[colon + 1..];
    (!password.is_empty()).then(|| password.to_owned())
}

/// Byte ranges of the values of `password=…` parameters in `text` (any case; in a URL query,
/// a key=value connection string or free text): the key starts the text or follows
/// whitespace, `?`, `&`, `;`, `,` or `(`. A value in single quotes runs to the closing quote.
fn password_params(text: &str) -> Vec<std::ops::Range<usize>> {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(KEY) {
        let key = from + pos;
        let start = key + KEY.len();
        from = start;
        let is_boundary = |before: &str| {
            before
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '?' | '&' | ';' | ',' | '('))
        };
        // `password=` and libpq's `sslpassword=` (the client key's passphrase).
        let boundary = is_boundary(&text[..key])
            || (lower[..key].ends_with("ssl") && is_boundary(&text[..key - 3]));
        if !boundary {
            continue;
        }
        let rest = &text[start..];
        let len = if let Some(quoted) = rest.strip_prefix('\'') {
            quoted.find('\'').map(|i| i + 2).unwrap_or(rest.len())
        } else {
            rest.find(|c: char| {
                c.is_whitespace() || matches!(c, '&' | '#' | '"' | '`' | '<' | '>' | ')')
            })
            .unwrap_or(rest.len())
        };
        if len > 0 {
            out.push(start..start + len);
            from = start + len;
        }
    }
    out
}

/// Masks the password of every `scheme://user:password@` occurrence in free text, and the
/// value of every `password=…` parameter (URL queries, key=value connection strings).
pub fn mask_url_passwords(text: &str) -> String {
    let text = mask_password_params(text);
    let text = text.as_str();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The userinfo ends at '@'; it cannot contain whitespace, '/' or quotes.
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(tail.len());
        let candidate = &tail[..end];
        match (candidate.rfind('@'), candidate.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&candidate[..colon + 1]);
                out.push_str(MASK);
                out.push_str(&candidate[at..]);
                rest = &tail[end..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn mask_password_params(text: &str) -> String {
    let ranges = password_params(text);
    if ranges.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in ranges {
        out.push_str(&text[last..r.start]);
        out.push_str(MASK);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_passwords_in_free_text() {
        let cases = [
            ("postgres://u:p4ss@h:5432/db", "postgres://u:****@h:5432/db"),
            ("x postgresql://a:b@c/d y", "x postgresql://a:****@c/d y"),
            ("postgres://nopass@h/db", "postgres://nopass@h/db"),
            (
                "see https://example.com/a:b@c",
                "see https://example.com/a:b@c",
            ),
            (
                "two postgres://a:s1@h and mysql://b:s2@h",
                "two postgres://a:****@h and mysql://b:****@h",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(mask_url_passwords(input), want, "input: {input}");
        }
    }

    #[test]
    fn redacts_registered_secrets_and_encoded_forms() {
        let r = Redactor::new();
        r.add("s3cr3t/p@ss");
        let text = "key=s3cr3t/p@ss url=postgres://u:s3cr3t%2Fp%40ss@h/db";
        let out = r.redact(text);
        assert!(!out.contains("s3cr3t"), "{out}");
    }

    #[test]
    fn masks_password_parameters_of_urls_and_connection_strings() {
        let cases = [
            (
                "postgres://u@h:5432/db?sslmode=require&password=qpw1",
                "postgres://u@h:5432/db?sslmode=require&password=****",
            ),
            (
                "postgres://u@h/db?PASSWORD=qpw2&x=1",
                "postgres://u@h/db?PASSWORD=****&x=1",
            ),
            (
                "host=h password='a b c' dbname=x",
                "host=h password=**** dbname=x",
            ),
            ("host=h password=kv3", "host=h password=****"),
            (
                "postgres://u@h/db?sslpassword=kp1&x=1 host=h sslpassword=kp2",
                "postgres://u@h/db?sslpassword=****&x=1 host=h sslpassword=****",
            ),
            // Not a parameter: part of a longer word.
            ("PGPASSWORD=x mypassword=y", "PGPASSWORD=x mypassword=y"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_url_passwords(input), want, "input: {input}");
        }
        assert_eq!(
            url_password("postgres://u@h/db?password=qpw1").as_deref(),
            Some("qpw1")
        );
        assert_eq!(
            url_password("host=h password='a b' dbname=x").as_deref(),
            Some("a b")
        );
        let r = Redactor::new();
        r.add_url("postgres://u@h/db?password=s3cr3t%2Fq");
        assert_eq!(r.redact("pw s3cr3t/q and s3cr3t%2Fq"), "pw **** and ****");
    }

    #[test]
    fn extracts_url_password() {
        assert_eq!(url_password("postgres://u:pw@h/db").as_deref(), Some("pw"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("postgres://h/db?x=a:b@c"), None);
    }

    #[test]
    fn secret_debug_is_masked() {
        assert_eq!(format!("{:?}", Secret::new("pw")), "Secret(****)");
    }
}
