//! The transaction type and the engine dispatch: [`SqlTx`], the `on!` and
//! `on_each!` macros every query runs through, and the [`Tx`] impl (commit
//! and rollback). The port's aggregate traits are implemented next to their
//! SQL, one module each (`practices.rs` implements `PracticeStore`, ...).

use async_trait::async_trait;
use ferry_ports::{StoreError, Tx};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::error;

/// An open database transaction on one of the two engines.
#[derive(Debug)]
pub(crate) enum Conn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction of [`crate::SqlStore`]. Dropping it without committing rolls back.
#[derive(Debug)]
pub struct SqlTx {
    conn: Option<Conn>,
    /// A statement failed: PostgreSQL refuses everything after that until
    /// rollback, and SQLite is made to behave the same so that both engines
    /// keep one contract.
    failed: bool,
}

impl SqlTx {
    pub(crate) const fn new(conn: Conn) -> Self {
        Self { conn: Some(conn), failed: false }
    }

    /// The open transaction: [`StoreError::Finished`] after commit or
    /// rollback, [`StoreError::Aborted`] after a failed statement.
    pub(crate) fn conn(&mut self) -> Result<&mut Conn, StoreError> {
        if self.failed {
            return Err(StoreError::Aborted);
        }
        self.conn.as_mut().ok_or(StoreError::Finished)
    }

    /// Records the outcome of a statement: an error aborts the transaction.
    pub(crate) fn check<T, E>(&mut self, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

/// Runs `$body` with `$c` bound to the transaction's connection, whichever
/// engine it is on. The body is compiled once per engine, so the same SQL text
/// and binds serve both; it must evaluate to an engine-independent type (map
/// an `execute` result to `rows_affected()` inside the body).
macro_rules! on {
    ($tx:expr, |$c:ident| $body:expr) => {{
        let result = match $tx.conn()? {
            $crate::tx::Conn::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut **t;
                $body
            }
            $crate::tx::Conn::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut **t;
                $body
            }
        };
        $tx.check(result)
    }};
}

/// Like [`on!`], with a different body per engine, for the few statements
/// whose dialects differ.
macro_rules! on_each {
    ($tx:expr, sqlite: |$s:ident| $sqlite:expr, postgres: |$p:ident| $postgres:expr $(,)?) => {{
        let result = match $tx.conn()? {
            $crate::tx::Conn::Sqlite(t) => {
                let $s: &mut sqlx::SqliteConnection = &mut **t;
                $sqlite
            }
            $crate::tx::Conn::Postgres(t) => {
                let $p: &mut sqlx::PgConnection = &mut **t;
                $postgres
            }
        };
        $tx.check(result)
    }};
}

pub(crate) use {on, on_each};

#[async_trait]
impl Tx for SqlTx {
    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.failed {
            // Nothing of an aborted transaction may be saved.
            self.rollback().await?;
            return Err(StoreError::Aborted);
        }
        match self.conn.take().ok_or(StoreError::Finished)? {
            Conn::Sqlite(t) => t.commit().await,
            Conn::Postgres(t) => t.commit().await,
        }
        .map_err(error::map("commit"))
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        self.failed = false;
        match self.conn.take().ok_or(StoreError::Finished)? {
            Conn::Sqlite(t) => t.rollback().await,
            Conn::Postgres(t) => t.rollback().await,
        }
        .map_err(error::map("rollback"))
    }
}
