//! The emulator's model of one Neon project: Neon database branches, endpoints, operations.
//!
//! Kept in memory behind one mutex (never held across an await). Physical databases live in
//! the backing Postgres; this model maps each Neon database branch to one of them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::time::rfc3339;

/// The logical database and role every Neon database branch has.
pub const DATABASE: &str = "neondb";
pub const ROLE: &str = "neondb_owner";
pub const REGION: &str = "aws-us-east-2";

#[derive(Debug, Clone)]
pub struct Branch {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub default: bool,
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state_changed_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub ttl_interval_seconds: Option<i64>,
    pub last_reset_at: Option<DateTime<Utc>>,
    pub init_source: String,
    pub creation_source: String,
    pub annotation: BTreeMap<String, String>,
    /// The backing database.
    pub physical: String,
    pub logical_size: i64,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub branch_id: String,
    pub port: u16,
    pub created_at: DateTime<Utc>,
    pub suspend_timeout_seconds: i64,
    pub min_cu: f64,
    pub max_cu: f64,
}

impl Endpoint {
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub branch_id: Option<String>,
    pub endpoint_id: Option<String>,
    pub action: &'static str,
    pub created_at: DateTime<Utc>,
    started: Instant,
    delay: Duration,
    /// Set when the operation is made to end `failed` (fault injection).
    pub fails: bool,
}

impl Operation {
    /// `scheduling` → `running` → `finished` (or `failed`) as time passes.
    pub fn status(&self) -> &'static str {
        let elapsed = self.started.elapsed();
        if elapsed < self.delay / 3 {
            "scheduling"
        } else if elapsed < self.delay {
            "running"
        } else if self.fails {
            "failed"
        } else {
            "finished"
        }
    }

    pub fn pending(&self) -> bool {
        matches!(self.status(), "scheduling" | "running")
    }

    pub fn to_json(&self, project_id: &str) -> Value {
        let status = self.status();
        let done = !matches!(status, "scheduling" | "running");
        let updated = if done {
            self.created_at + chrono::Duration::from_std(self.delay).unwrap_or_default()
        } else {
            self.created_at
        };
        let mut v = json!({
            "id": self.id,
            "project_id": project_id,
            "action": self.action,
            "status": status,
            "failures_count": if status == "failed" { 1 } else { 0 },
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(updated),
            "total_duration_ms": if done { self.delay.as_millis() as i64 } else { 0 },
        });
        if let Some(b) = &self.branch_id {
            v["branch_id"] = json!(b);
        }
        if let Some(e) = &self.endpoint_id {
            v["endpoint_id"] = json!(e);
        }
        if status == "failed" {
            v["error"] = json!("operation failed (injected by the emulator)");
        }
        v
    }
}

/// The mutable state of the emulated project.
#[derive(Debug, Default)]
pub struct Project {
    pub branches: BTreeMap<String, Branch>,
    pub endpoints: BTreeMap<String, Endpoint>,
    pub operations: Vec<Operation>,
    pub fail_next_operation: bool,
    rng: Rng,
    pub generation: u64,
}

impl Project {
    pub fn new() -> Self {
        Project {
            rng: Rng::seeded(),
            ..Default::default()
        }
    }

    pub fn new_id(&mut self, prefix: &str) -> String {
        const ADJ: &[&str] = &[
            "quiet", "bold", "misty", "young", "ancient", "little", "shiny", "silent", "late",
            "plain", "rough", "twilight",
        ];
        const NOUN: &[&str] = &[
            "river", "sea", "forest", "meadow", "cloud", "frost", "dream", "field", "bird", "lake",
            "sun", "wave",
        ];
        loop {
            let a = ADJ[self.rng.below(ADJ.len())];
            let n = NOUN[self.rng.below(NOUN.len())];
            let tail: String = (0..8)
                .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789"[self.rng.below(36)] as char)
                .collect();
            let id = format!("{prefix}-{a}-{n}-{tail}");
            if !self.branches.contains_key(&id) && !self.endpoints.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.rng.next().to_le_bytes());
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    pub fn password(&mut self) -> String {
        let tail: String = (0..16)
            .map(|_| {
                b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[self.rng.below(57)]
                    as char
            })
            .collect();
        format!("npg_{tail}")
    }

    /// Records an operation; the first one after `fail_next_operation` is set will fail.
    pub fn operation(
        &mut self,
        action: &'static str,
        branch: Option<&str>,
        endpoint: Option<&str>,
        delay: Duration,
    ) -> Operation {
        let fails = std::mem::take(&mut self.fail_next_operation);
        let op = Operation {
            id: self.uuid(),
            branch_id: branch.map(str::to_owned),
            endpoint_id: endpoint.map(str::to_owned),
            action,
            created_at: Utc::now(),
            started: Instant::now(),
            delay,
            fails,
        };
        self.operations.push(op.clone());
        op
    }

    /// Whether an operation is still running on the project (mutations then get 423).
    pub fn busy(&self) -> bool {
        self.operations.iter().any(Operation::pending)
    }

    pub fn default_branch(&self) -> Option<&Branch> {
        self.branches.values().find(|b| b.default)
    }

    pub fn children_of(&self, id: &str) -> usize {
        self.branches
            .values()
            .filter(|b| b.parent_id.as_deref() == Some(id))
            .count()
    }

    pub fn endpoint_of(&self, branch_id: &str) -> Option<&Endpoint> {
        self.endpoints.values().find(|e| e.branch_id == branch_id)
    }

    /// `init` while any operation of the Neon database branch runs (or failed), else `ready`.
    pub fn branch_state(&self, id: &str) -> &'static str {
        let ops = self
            .operations
            .iter()
            .filter(|o| o.branch_id.as_deref() == Some(id));
        let mut state = "ready";
        for o in ops {
            match o.status() {
                "finished" | "skipped" => {}
                _ => state = "init",
            }
        }
        state
    }

    pub fn branch_json(&self, b: &Branch, project_id: &str) -> Value {
        let state = self.branch_state(&b.id);
        let mut v = json!({
            "id": b.id,
            "project_id": project_id,
            "name": b.name,
            "current_state": state,
            "state_changed_at": rfc3339(b.state_changed_at),
            "logical_size": b.logical_size,
            "creation_source": b.creation_source,
            "primary": b.default,
            "default": b.default,
            "protected": b.protected,
            "cpu_used_sec": 0,
            "compute_time_seconds": 0,
            "active_time_seconds": 0,
            "written_data_bytes": 0,
            "data_transfer_bytes": 0,
            "created_at": rfc3339(b.created_at),
            "updated_at": rfc3339(b.updated_at),
            "init_source": b.init_source,
            "created_by": { "name": "neon-migrate emulator", "image": "" },
        });
        if state == "init" {
            v["pending_state"] = json!("ready");
        }
        if let Some(p) = &b.parent_id {
            v["parent_id"] = json!(p);
            v["parent_lsn"] = json!("0/1F4D8C0");
            v["parent_timestamp"] = json!(rfc3339(b.created_at));
        }
        if let Some(e) = b.expires_at {
            v["expires_at"] = json!(rfc3339(e));
        }
        if let Some(t) = b.ttl_interval_seconds {
            v["ttl_interval_seconds"] = json!(t);
        }
        if let Some(r) = b.last_reset_at {
            v["last_reset_at"] = json!(rfc3339(r));
        }
        v
    }

    pub fn endpoint_json(&self, e: &Endpoint, project_id: &str) -> Value {
        let ready = self.branch_state(&e.branch_id) == "ready";
        json!({
            "host": e.host(),
            "id": e.id,
            "project_id": project_id,
            "branch_id": e.branch_id,
            "autoscaling_limit_min_cu": e.min_cu,
            "autoscaling_limit_max_cu": e.max_cu,
            "region_id": REGION,
            "type": "read_write",
            "current_state": if ready { "active" } else { "init" },
            "settings": {},
            "pooler_enabled": false,
            "pooler_mode": "transaction",
            "disabled": false,
            "passwordless_access": false,
            "creation_source": "neon-migrate-emulator",
            "created_at": rfc3339(e.created_at),
            "updated_at": rfc3339(e.created_at),
            "proxy_host": "127.0.0.1",
            "suspend_timeout_seconds": e.suspend_timeout_seconds,
            "provisioner": "k8s-neonvm",
        })
    }

    pub fn annotation_json(&self, b: &Branch) -> Value {
        let value: Map<String, Value> = b
            .annotation
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({
            "object": { "type": "console/branch", "id": b.id },
            "value": value,
            "created_at": rfc3339(b.created_at),
            "updated_at": rfc3339(b.updated_at),
        })
    }

    pub fn database_json(&self, b: &Branch) -> Value {
        json!({
            "id": database_id(&b.id),
            "branch_id": b.id,
            "name": DATABASE,
            "owner_name": ROLE,
            "created_at": rfc3339(b.created_at),
            "updated_at": rfc3339(b.created_at),
        })
    }

    pub fn role_json(&self, b: &Branch) -> Value {
        json!({
            "branch_id": b.id,
            "name": ROLE,
            "protected": false,
            "authentication_method": "password",
            "created_at": rfc3339(b.created_at),
            "updated_at": rfc3339(b.created_at),
        })
    }
}

fn database_id(branch_id: &str) -> i64 {
    // Stable per Neon database branch, positive, fits in JSON numbers.
    branch_id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) as i64
        & 0x000f_ffff_ffff
}

/// A small PRNG (xorshift64*) seeded from the OS: ids need to look random, not be secret.
#[derive(Debug)]
struct Rng(u64);

impl Default for Rng {
    fn default() -> Self {
        Rng::seeded()
    }
}

impl Rng {
    fn seeded() -> Self {
        let mut seed = [0u8; 8];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed))
            .is_ok();
        let mut s = u64::from_le_bytes(seed);
        if !ok || s == 0 {
            s = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1;
        }
        Rng(s)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_neons_shape() {
        let mut p = Project::new();
        for _ in 0..50 {
            let id = p.new_id("br");
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(parts.len(), 4, "{id}");
            assert_eq!(parts[0], "br");
            assert!(
                parts[1..].iter().all(|s| !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "{id}"
            );
            assert_eq!(parts[3].len(), 8);
        }
        let u = p.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn operations_move_through_their_states() {
        let mut p = Project::new();
        let op = p.operation(
            "create_branch",
            Some("br-a-b-c"),
            None,
            Duration::from_millis(90),
        );
        assert_eq!(op.status(), "scheduling");
        assert!(p.busy());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(op.status(), "running");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(op.status(), "finished");
        assert!(!p.busy());
        p.fail_next_operation = true;
        let op = p.operation("start_compute", None, None, Duration::ZERO);
        assert_eq!(op.status(), "failed");
        assert!(!p.fail_next_operation);
    }
}
