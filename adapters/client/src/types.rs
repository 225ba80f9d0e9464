//! Typed request and response bodies of the Arca REST API.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The answer of `GET /healthz`, e.g. `{"status":"ok"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when the server is alive.
    pub status: String,
    /// Any other fields the server sends (version, uptime, …), kept as they are.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl Health {
    /// Whether `status` is `ok`.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}
