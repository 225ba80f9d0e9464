//! PostgreSQL adapter of the [`MetadataStore`]: the shared store of a multi-replica deployment.
//!
//! - **Schema.** `migrations/postgres/`, applied at connect (sqlx's migrator takes an advisory
//!   lock, so replicas starting together apply it once). Same tables and constraints as SQLite;
//!   instants are `TIMESTAMPTZ`, written truncated to the microsecond exactly as SQLite's text
//!   timestamps are, so both round-trip the same values. The row decoders are shared with SQLite
//!   (`sql_common`).
//! - **Isolation.** Write transactions run `SERIALIZABLE`: a read-check-write use case (e.g.
//!   "fewer than 8 keys, then insert") cannot overshoot, because PostgreSQL aborts one of two
//!   conflicting transactions. Serialization failures (`40001`) and deadlocks (`40P01`) surface
//!   as [`StoreError::Conflict`]; the caller retries the whole transaction. Read transactions
//!   run `REPEATABLE READ, READ ONLY`: one consistent snapshot, never a conflict.
//! - **Failed methods leave the transaction usable.** PostgreSQL aborts a transaction on any
//!   error, while the port promises that a failed method changes nothing and the transaction
//!   goes on (e.g. an `AlreadyExists` insert followed by other work). So every write method runs
//!   as one SQL statement inside a `SAVEPOINT`, released on success and rolled back to on
//!   error. That costs two extra round trips per write; reads need none.
//! - **Pool.** One sqlx pool per store ([`PostgresMetadataStore::connect_with_pool_size`]); a
//!   transaction holds one connection for its life.
//!
//! The connection URL may carry the password; it never appears in errors or logs (only
//! `user@host:port/database` does). `?options[search_path]=schema` selects a schema.

use crate::sql_common::{map_err, SqlRow};
use arca_core::ports::{MetadataStore, MetadataTx, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{Connection, PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// Connections per pool when not configured.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// A [`MetadataStore`] in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresMetadataStore {
    pool: PgPool,
}

/// `user@host:port/database`: the URL without its password, for messages.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

impl PostgresMetadataStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with a
    /// pool of [`DEFAULT_MAX_CONNECTIONS`] and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`PostgresMetadataStore::connect`], with at most `max_connections` connections.
    pub async fn connect_with_pool_size(
        url: &str,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        // The URL parser's errors describe the problem, never echo the URL.
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let target = describe(&options);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Backend(format!("connect {target}: {e}")))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrate {target}: {e}")))?;
        tracing::debug!(%target, "PostgreSQL metadata store ready");
        Ok(Self { pool })
    }

    /// Closes every connection of the pool (waits for checked-out connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

mod tx;

/// One transaction: the sqlx transaction and whether it is read-only.
struct PgTx {
    tx: Transaction<'static, Postgres>,
    read_only: bool,
}

#[async_trait]
impl MetadataStore for PostgresMetadataStore {
    async fn begin(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await
            .map_err(|e| map_err(e, "begin"))?;
        Ok(Box::new(PgTx {
            tx,
            read_only: false,
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(|e| map_err(e, "begin"))?;
        Ok(Box::new(PgTx {
            tx,
            read_only: true,
        }))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| map_err(e, "ping"))
    }
}

impl SqlRow for PgRow {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn time(&self, col: &str) -> Result<DateTime<Utc>, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn flag(&self, col: &str) -> Result<bool, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn uuid(&self, col: &str) -> Result<Uuid, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
}

/// An instant as stored: truncated to the microsecond (PostgreSQL's resolution), the same
/// truncation SQLite's text timestamps apply.
pub(crate) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.map(ts)
}

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

impl PgTx {
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::Backend(
                "write attempted in a read-only transaction".into(),
            ))
        } else {
            Ok(())
        }
    }

    async fn fetch_all<T>(
        &mut self,
        q: PgQuery<'_>,
        what: &str,
        f: fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = q
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, what))?;
        rows.iter().map(f).collect()
    }

    async fn fetch_opt<T>(
        &mut self,
        q: PgQuery<'_>,
        what: &str,
        f: fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let row = q
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, what))?;
        row.as_ref().map(f).transpose()
    }

    /// Runs one writing statement inside a savepoint and returns the rows it produced
    /// (`RETURNING`; empty without) and the number of rows it affected. With `must_affect`,
    /// affecting no row is `NotFound`. On any error the savepoint is rolled back: the statement
    /// changed nothing and the transaction stays usable.
    async fn write(
        &mut self,
        q: PgQuery<'_>,
        what: &str,
        returning: bool,
        must_affect: bool,
    ) -> Result<(Vec<PgRow>, u64), StoreError> {
        self.writable()?;
        let mut savepoint = self.tx.begin().await.map_err(|e| map_err(e, "savepoint"))?;
        let result = if returning {
            q.fetch_all(&mut *savepoint)
                .await
                .map(|rows| (rows.len() as u64, rows))
        } else {
            q.execute(&mut *savepoint)
                .await
                .map(|r| (r.rows_affected(), Vec::new()))
        };
        let result = match result {
            Ok((0, _)) if must_affect => Err(StoreError::NotFound(what.to_string())),
            Ok((n, rows)) => Ok((rows, n)),
            Err(e) => Err(map_err(e, what)),
        };
        match result {
            Ok(v) => {
                savepoint
                    .commit()
                    .await
                    .map_err(|e| map_err(e, "release savepoint"))?;
                Ok(v)
            }
            Err(err) => {
                if let Err(e) = savepoint.rollback().await {
                    tracing::warn!(error = %e, "rollback to savepoint failed");
                }
                Err(err)
            }
        }
    }

    /// [`PgTx::write`] without `RETURNING`; returns the affected row count.
    async fn exec(&mut self, q: PgQuery<'_>, what: &str) -> Result<u64, StoreError> {
        Ok(self.write(q, what, false, false).await?.1)
    }

    /// [`PgTx::exec`] that must affect a row (else `NotFound`, and nothing changed).
    async fn exec_one(&mut self, q: PgQuery<'_>, what: &str) -> Result<(), StoreError> {
        self.write(q, what, false, true).await.map(|_| ())
    }

    /// [`PgTx::write`] for a statement `RETURNING *` one row, decoded with `f`.
    async fn write_returning<T>(
        &mut self,
        q: PgQuery<'_>,
        what: &str,
        f: fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (rows, _) = self.write(q, what, true, true).await?;
        match rows.first() {
            Some(row) => f(row),
            None => Err(StoreError::NotFound(what.to_string())),
        }
    }
}
