//! One TCP proxy per emulated endpoint: Postgres' wire protocol up to the startup message,
//! then plain bytes.
//!
//! On Neon every Neon database branch has the same database and role names (`neondb`,
//! `neondb_owner`) and is told apart by its endpoint's host. Here every endpoint gets its
//! own port, and the proxy rewrites the startup message's `database` and `user` to the
//! backing database and role, so connection strings look and behave like Neon's. SCRAM
//! authentication passes through untouched (the server ignores the SCRAM user name). Until
//! the Neon database branch's operations have finished, connections are refused — as on
//! Neon, where a compute that is not ready yet fails the connection.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
const PROTOCOL_3: u32 = 196_608;

/// Where a connection to an endpoint goes, or why it cannot.
pub type Resolver = Arc<dyn Fn(&str, &str) -> Result<Target, Refusal> + Send + Sync>;

pub struct Target {
    pub database: String,
    pub user: String,
}

pub struct Refusal {
    pub sqlstate: &'static str,
    pub message: String,
}

/// Serves `listener` until the task is aborted.
pub async fn serve(
    listener: TcpListener,
    endpoint_id: String,
    backend: (String, u16),
    resolve: Resolver,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let resolve = resolve.clone();
        let backend = backend.clone();
        let endpoint_id = endpoint_id.clone();
        tokio::spawn(async move {
            let _ = handle(client, &endpoint_id, backend, resolve).await;
        });
    }
}

async fn read_message(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let len = s.read_u32().await? as usize;
    if !(8..=10_000).contains(&len) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "bad startup length",
        ));
    }
    let mut body = vec![0u8; len - 4];
    s.read_exact(&mut body).await?;
    Ok(body)
}

fn error_response(r: &Refusal) -> Vec<u8> {
    let mut fields = Vec::new();
    for (tag, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', r.sqlstate),
        (b'M', r.message.as_str()),
    ] {
        fields.push(tag);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut msg = vec![b'E'];
    msg.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
    msg.extend_from_slice(&fields);
    msg
}

async fn handle(
    mut client: TcpStream,
    endpoint_id: &str,
    backend: (String, u16),
    resolve: Resolver,
) -> std::io::Result<()> {
    let mut body = read_message(&mut client).await?;
    loop {
        let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        match code {
            SSL_REQUEST | GSSENC_REQUEST => {
                // No TLS on loopback: the client falls back to plain text (sslmode=prefer).
                client.write_all(b"N").await?;
                body = read_message(&mut client).await?;
            }
            CANCEL_REQUEST => {
                let mut server = TcpStream::connect((backend.0.as_str(), backend.1)).await?;
                let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
                msg.extend_from_slice(&body);
                server.write_all(&msg).await?;
                return Ok(());
            }
            PROTOCOL_3 => break,
            _ => {
                let r = Refusal {
                    sqlstate: "08P01",
                    message: "unsupported frontend protocol".into(),
                };
                client.write_all(&error_response(&r)).await?;
                return Ok(());
            }
        }
    }
    // Parse `key\0value\0…\0` after the protocol version.
    let mut params: Vec<(String, String)> = Vec::new();
    let mut parts = body[4..].split(|b| *b == 0);
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        if k.is_empty() {
            break;
        }
        params.push((
            String::from_utf8_lossy(k).into_owned(),
            String::from_utf8_lossy(v).into_owned(),
        ));
    }
    let user = params
        .iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let database = params
        .iter()
        .find(|(k, _)| k == "database")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| user.clone());
    let target = match resolve(endpoint_id, &database) {
        Ok(t) => t,
        Err(r) => {
            client.write_all(&error_response(&r)).await?;
            return Ok(());
        }
    };
    if user != super::state::ROLE {
        let r = Refusal {
            sqlstate: "28000",
            message: format!("role \"{user}\" does not exist"),
        };
        client.write_all(&error_response(&r)).await?;
        return Ok(());
    }
    let mut out = PROTOCOL_3.to_be_bytes().to_vec();
    for (k, v) in &params {
        let v = match k.as_str() {
            "database" => &target.database,
            "user" => &target.user,
            _ => v,
        };
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    if !params.iter().any(|(k, _)| k == "database") {
        out.extend_from_slice(b"database\0");
        out.extend_from_slice(target.database.as_bytes());
        out.push(0);
    }
    out.push(0);
    let mut msg = ((out.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&out);
    let mut server = TcpStream::connect((backend.0.as_str(), backend.1)).await?;
    server.write_all(&msg).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
