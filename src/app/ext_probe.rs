//! The scratch database where the extensions new on the judged side are created to learn
//! what their scripts make ([`crate::schema::extprobe`]): one per run, only when an extension
//! is new or changed, dropped whatever happens.

use crate::config::Config;
use crate::pg;
use crate::schema::extprobe::{self, NoProbe, Probed};
use crate::schema::model::Extension;
use crate::schema::Model;
use crate::secret::{Redactor, Secret};

use super::schema_source::Scratch;

/// Where the probe database is made.
pub enum ProbeDb<'a> {
    /// A scratch database of the local provider's server (the one `.sql` files load into,
    /// and the local provider's copies live on), owned by a role of its own.
    Local,
    /// A database made with `CREATE DATABASE` by the role of this URL, on its server (a
    /// Neon database branch's role, a `--to` URL's).
    Url(&'a Secret<String>),
}

/// Probes the extensions new or changed on `b` (against `a`): `None` when none changed (no
/// database is made). A probe that cannot be made says those extensions are not checked,
/// with the reason. The caller marks the models (`extprobe::mark`).
pub async fn probed(
    a: &Model,
    b: &Model,
    db: ProbeDb<'_>,
    config: &Config,
    redactor: &Redactor,
) -> Option<Probed> {
    let exts = extprobe::to_probe(a, b);
    if exts.is_empty() {
        return None;
    }
    let probed = match db {
        ProbeDb::Local => local(&exts, b, config, redactor).await,
        ProbeDb::Url(url) => on_server(&exts, b, url).await,
    };
    let probed = probed.unwrap_or_else(|reason| extprobe::not_checked(&exts, &reason.0));
    Some(
        probed
            .into_iter()
            .map(|(n, r)| (n, r.map_err(|e| NoProbe(redactor.redact(&e.0)))))
            .collect(),
    )
}

async fn local(
    exts: &[(String, Extension)],
    b: &Model,
    config: &Config,
    redactor: &Redactor,
) -> Result<Probed, NoProbe> {
    let (scratch, url) = Scratch::empty(config, redactor).await.map_err(|e| {
        NoProbe(format!(
            "cannot create a scratch database to create it in: {e}"
        ))
    })?;
    let probed = match pg::connect(&url).await {
        Ok(client) => Ok(extprobe::probe(&client, exts, b).await),
        Err(e) => Err(NoProbe(format!(
            "cannot connect to the scratch database: {e}"
        ))),
    };
    scratch.finish().await;
    probed
}

/// The probe database's name: unique to this process and call.
fn probe_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "neon_migrate_probe_{}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

async fn on_server(
    exts: &[(String, Extension)],
    b: &Model,
    url: &Secret<String>,
) -> Result<Probed, NoProbe> {
    let admin = pg::connect(url)
        .await
        .map_err(|e| NoProbe(format!("cannot connect: {e}")))?;
    let name = probe_name();
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            pg::ident(&name)
        ))
        .await
        .map_err(|e| {
            NoProbe(format!(
                "cannot create a scratch database to create it in (the role needs CREATEDB): {}",
                pg::describe(&e)
            ))
        })?;
    let probe_url = Secret::new(pg::with_database(url.expose(), &name));
    let probed = match pg::connect(&probe_url).await {
        Ok(client) => Ok(extprobe::probe(&client, exts, b).await),
        Err(e) => Err(NoProbe(format!(
            "cannot connect to the scratch database: {e}"
        ))),
    };
    // Dropped whatever the probe found (its sessions are closed by now).
    if let Err(e) = admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            pg::ident(&name)
        ))
        .await
    {
        eprintln!(
            "warning: the scratch database {name} could not be dropped: {}",
            pg::describe(&e)
        );
    }
    probed
}
