//! Restoring the main database from a restore point: two renames, with every session on
//! either database ended first and connections re-allowed whatever happens.

use chrono::Utc;
use tokio_postgres::Client;

use super::{local_db_name, LocalProvider, Meta};
use crate::pg::{self, ident, literal};
use crate::providers::{DbBranchInfo, ProviderError};

impl LocalProvider {
    /// Swaps restore point `from` in as the main database, keeping main's current state as
    /// `preserve_as` (renames, so nobody may be connected to either meanwhile).
    pub(super) async fn restore_main_from(
        &self,
        from: &DbBranchInfo,
        preserve_as: &str,
    ) -> Result<(), ProviderError> {
        let client = self.admin().await?;
        let ours = self
            .comment_of(&client, &from.id)
            .await?
            .flatten()
            .and_then(|c| serde_json::from_str::<Meta>(&c).ok());
        if ours.is_none() {
            return Err(ProviderError::new(format!(
                "`{}` is not a restore point created by neon-migrate",
                from.id
            )));
        }
        let keep = local_db_name(preserve_as);
        if self.comment_of(&client, &keep).await?.is_some() {
            return Err(
                ProviderError::new(format!("database `{keep}` already exists"))
                    .help("pick another name for the preserved state"),
            );
        }
        let exec = |sql: String| {
            let client = &client;
            async move {
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| ProviderError::from(pg::PgError::new("restore failed", e)))
            }
        };
        async fn reopen(client: &Client, dbs: [&String; 2]) {
            for db in dbs {
                let _ = client
                    .batch_execute(&format!(
                        "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                        ident(db)
                    ))
                    .await;
            }
        }
        // Nobody may hold the databases being renamed: stop new sessions, end the others,
        // and wait until they are gone (a terminated backend takes a moment to exit, and
        // RENAME refuses a database that is still being accessed).
        for db in [&self.main, &from.id] {
            if let Err(e) = exec(format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS false",
                ident(db)
            ))
            .await
            {
                reopen(&client, [&self.main, &from.id]).await;
                return Err(e);
            }
        }
        if let Err(e) = self.end_sessions(&client, &from.id).await {
            reopen(&client, [&self.main, &from.id]).await;
            return Err(e);
        }
        if let Err(e) = exec(format!(
            "ALTER DATABASE {} RENAME TO {}",
            ident(&self.main),
            ident(&keep)
        ))
        .await
        {
            reopen(&client, [&self.main, &from.id]).await;
            return Err(e);
        }
        if let Err(e) = exec(format!(
            "ALTER DATABASE {} RENAME TO {}",
            ident(&from.id),
            ident(&self.main)
        ))
        .await
        {
            // Put main back where it was.
            let _ = exec(format!(
                "ALTER DATABASE {} RENAME TO {}",
                ident(&keep),
                ident(&self.main)
            ))
            .await;
            reopen(&client, [&self.main, &from.id]).await;
            return Err(e);
        }
        let now = Utc::now();
        let meta = Meta {
            neon_migrate: 1,
            name: preserve_as.to_owned(),
            parent: self.main.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::days(7),
            git_branch: String::new(),
            git_sha: String::new(),
            pipeline: "rollback".into(),
            run: String::new(),
        };
        let json = serde_json::to_string(&meta).expect("serializable");
        exec(format!("COMMENT ON DATABASE {} IS NULL", ident(&self.main))).await?;
        exec(format!(
            "COMMENT ON DATABASE {} IS {}",
            ident(&keep),
            literal(&json)
        ))
        .await?;
        for db in [&self.main, &keep] {
            exec(format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                ident(db)
            ))
            .await?;
        }
        Ok(())
    }

    /// Ends every session on main and on `other` and waits (10 s at most) until they are
    /// gone: a terminated backend takes a moment to exit.
    async fn end_sessions(&self, client: &Client, other: &str) -> Result<(), ProviderError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let mut left = self.sessions_on(client, &self.main).await?;
            left.extend(self.sessions_on(client, other).await?);
            if left.is_empty() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(ProviderError::new(format!(
                    "sessions on `{}` or `{}` did not end within 10 s: {}",
                    self.main,
                    other,
                    left.join("; ")
                )));
            }
            for db in [self.main.as_str(), other] {
                let _ = client.batch_execute(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()", literal(db))).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
