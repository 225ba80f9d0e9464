//! `arca health`: the server's `/healthz`.

use anyhow::Result;

use super::Context;
use crate::output::{Output, Record};
use crate::ServerProblem;

/// Calls `GET /healthz` and prints the answer; fails (exit 2) unless the status is `ok`.
pub async fn run(ctx: &Context<'_>) -> Result<()> {
    let settings = ctx.settings()?;
    let client = ctx.client(&settings)?;
    let health = client.health().await?;
    let mut record = Record::new()
        .field("url", settings.url())
        .field("status", health.status.as_str());
    for (key, value) in &health.details {
        record = record.field(key.as_str(), value.clone());
    }
    Output::new(settings.format()).record(&record)?;
    if !health.is_ok() {
        return Err(ServerProblem(format!(
            "the server at {} reports status {:?}",
            settings.url(),
            health.status
        ))
        .into());
    }
    Ok(())
}
