//! Checks on a connection URI before anything connects with it: that it points at the
//! read_write endpoint of the Neon database branch we asked about, and that it asks for TLS
//! when it leaves the machine.

use std::net::IpAddr;

/// The default Postgres port, for URIs that name none.
const DEFAULT_PORT: u16 = 5432;

/// Where a connection URI leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Lowercase host name or address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

/// Why a connection URI's destination is not clear (completes "refusing the connection
/// string Neon gave for …: ").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("it is not a URI (no `://`)")]
    NotAUri,
    #[error("its scheme is `{0}`, not `postgresql`")]
    Scheme(String),
    #[error("it names several hosts")]
    SeveralHosts,
    #[error("it names no host")]
    NoHost,
    #[error("its port `{0}` is not a number")]
    Port(String),
    #[error("its query sets `{0}`, which overrides the host")]
    HostOverride(String),
}

/// The single host (and port) of a `postgres://` / `postgresql://` URI. Anything that would
/// make the destination ambiguous is an error: several hosts, or `host`/`hostaddr` query
/// parameters (libpq-style clients let them override the authority).
pub fn target_of(uri: &str) -> Result<Target, TargetError> {
    let (scheme, rest) = uri.split_once("://").ok_or(TargetError::NotAUri)?;
    if !matches!(scheme, "postgres" | "postgresql") {
        return Err(TargetError::Scheme(scheme.to_owned()));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let hostport = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    if hostport.contains(',') {
        return Err(TargetError::SeveralHosts);
    }
    let (host, port) = split_host_port(hostport);
    if host.is_empty() {
        return Err(TargetError::NoHost);
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p.parse().map_err(|_| TargetError::Port(p.to_owned()))?,
    };
    for (key, _) in query_pairs(uri) {
        if matches!(key.as_str(), "host" | "hostaddr" | "port") {
            return Err(TargetError::HostOverride(key));
        }
    }
    Ok(Target {
        host: normalize_host(&host),
        port,
    })
}

/// Whether a URI target is the endpoint whose `host` field is `endpoint_host`. Neon's field is
/// a bare host name (`ep-….aws.neon.tech`); an emulator's may carry a port (`127.0.0.1:5433`),
/// which must then match too.
pub fn is_endpoint(target: &Target, endpoint_host: &str) -> bool {
    let (host, port) = split_host_port(endpoint_host.trim());
    if host.is_empty() || normalize_host(&host) != target.host {
        return false;
    }
    match port {
        None => true,
        Some(p) => p.parse::<u16>().ok() == Some(target.port),
    }
}

/// `host[:port]` → (host without IPv6 brackets, port text).
pub fn split_host_port(s: &str) -> (String, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (
                host.to_owned(),
                tail.strip_prefix(':').filter(|p| !p.is_empty()),
            ),
            None => (rest.to_owned(), None),
        };
    }
    // A bare IPv6 address has several colons and no port.
    if s.matches(':').count() > 1 {
        return (s.to_owned(), None);
    }
    match s.split_once(':') {
        Some((host, port)) => (host.to_owned(), Some(port).filter(|p| !p.is_empty())),
        None => (s.to_owned(), None),
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` is this machine: `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// The URI with `sslmode=require` added when it sets no `sslmode` and leaves the machine.
/// (Neon's URIs carry `sslmode=require&channel_binding=require` already; the local emulator
/// serves plain TCP on 127.0.0.1.)
pub fn with_tls(uri: &str, target: &Target) -> String {
    if is_loopback(&target.host) || query_pairs(uri).iter().any(|(k, _)| k == "sslmode") {
        return uri.to_owned();
    }
    let (head, fragment) = match uri.find('#') {
        Some(i) => (&uri[..i], &uri[i..]),
        None => (uri, ""),
    };
    let sep = if !head.contains('?') {
        "?"
    } else if head.ends_with('?') || head.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{head}{sep}sslmode=require{fragment}")
}

/// The query's keys and values (not decoded: the keys we look for need no decoding).
fn query_pairs(uri: &str) -> Vec<(String, String)> {
    let Some((_, query)) = uri.split_once('?') else {
        return Vec::new();
    };
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: &str, port: u16) -> Target {
        Target {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn targets_of_uris() {
        let neon = "postgresql://neondb_owner:npg_x@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require";
        assert_eq!(
            target_of(neon),
            Ok(t("ep-cool-darkness-123456.us-east-2.aws.neon.tech", 5432))
        );
        assert_eq!(
            target_of("postgres://u:p@127.0.0.1:5433/db"),
            Ok(t("127.0.0.1", 5433))
        );
        assert_eq!(
            target_of("postgres://u:p%40x@[::1]:6000/db"),
            Ok(t("::1", 6000))
        );
        assert_eq!(
            target_of("postgres://u:p@EP-A.Example.COM./db"),
            Ok(t("ep-a.example.com", 5432))
        );
        // A password may contain `@` and `:` when encoded, and the last `@` ends the userinfo.
        assert_eq!(target_of("postgres://u:a@b@host:1/db"), Ok(t("host", 1)));
    }

    #[test]
    fn ambiguous_uris_are_refused() {
        for bad in [
            "mysql://u:p@h/db",
            "not a uri",
            "postgres://u:p@/db",
            "postgres://u:p@h1,h2/db",
            "postgres://u:p@h:port/db",
            "postgres://u:p@ep-new/db?host=ep-main",
            "postgres://u:p@ep-new/db?sslmode=require&hostaddr=10.0.0.1",
            "postgres:///db?host=/tmp",
        ] {
            assert!(target_of(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn endpoint_hosts_must_match_exactly() {
        let target = t("ep-new-123.us-east-2.aws.neon.tech", 5432);
        assert!(is_endpoint(&target, "ep-new-123.us-east-2.aws.neon.tech"));
        assert!(is_endpoint(&target, "EP-NEW-123.us-east-2.aws.neon.tech"));
        assert!(!is_endpoint(&target, "ep-main-456.us-east-2.aws.neon.tech"));
        assert!(!is_endpoint(
            &target,
            "ep-new-123-pooler.us-east-2.aws.neon.tech"
        ));
        assert!(!is_endpoint(&target, "us-east-2.aws.neon.tech"));
        assert!(!is_endpoint(&target, ""));
        // An emulator's host with a port: the port counts.
        let local = t("127.0.0.1", 5433);
        assert!(is_endpoint(&local, "127.0.0.1:5433"));
        assert!(is_endpoint(&local, "127.0.0.1"));
        assert!(!is_endpoint(&local, "127.0.0.1:5434"));
        assert!(!is_endpoint(&local, "localhost:5433"));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "ep-a.aws.neon.tech",
            "10.0.0.1",
            "localhost.example.com",
            "::2",
            "",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn tls_is_required_off_the_machine_unless_the_uri_says_otherwise() {
        let remote = t("ep-a.aws.neon.tech", 5432);
        assert_eq!(
            with_tls("postgresql://u:p@ep-a.aws.neon.tech/neondb", &remote),
            "postgresql://u:p@ep-a.aws.neon.tech/neondb?sslmode=require"
        );
        assert_eq!(
            with_tls(
                "postgresql://u:p@ep-a.aws.neon.tech/neondb?connect_timeout=5",
                &remote
            ),
            "postgresql://u:p@ep-a.aws.neon.tech/neondb?connect_timeout=5&sslmode=require"
        );
        let neon =
            "postgresql://u:p@ep-a.aws.neon.tech/neondb?sslmode=require&channel_binding=require";
        assert_eq!(with_tls(neon, &remote), neon);
        let explicit = "postgresql://u:p@ep-a.aws.neon.tech/neondb?sslmode=verify-full";
        assert_eq!(with_tls(explicit, &remote), explicit);
        let local = "postgresql://u:p@127.0.0.1:5433/db";
        assert_eq!(with_tls(local, &t("127.0.0.1", 5433)), local);
    }
}
