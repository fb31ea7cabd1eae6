//! A blocking facade for code without an async runtime: the connection lives on its own
//! runtime thread; every method blocks the caller until the answer is there. Do not call it
//! from inside an async task.

use std::time::Duration;

use futures_util::StreamExt;

use crate::codec::{Dump, Message, Request};
use crate::config::Config;
use crate::connection::{ConnState, Connection};
use crate::error::{Error, Result};

/// A blocking connection (owns a one-worker tokio runtime).
pub struct BlockingConnection {
    rt: tokio::runtime::Runtime,
    conn: Connection,
}

impl BlockingConnection {
    /// Connect (see [`Connection::connect`]).
    pub fn connect(config: Config) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vppapi-runtime")
            .enable_all()
            .build()
            .map_err(|e| Error::Io {
                path: "tokio runtime".into(),
                source: std::sync::Arc::new(e),
            })?;
        let conn = rt.block_on(Connection::connect(config))?;
        Ok(Self { rt, conn })
    }

    /// The async handle, e.g. to share with async code running elsewhere.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// See [`Connection::call`].
    pub fn call<M>(&self, req: &M) -> Result<M::Reply>
    where
        M: Request + Sync,
    {
        self.rt.block_on(self.conn.call(req))
    }

    /// See [`Connection::call_with_timeout`].
    pub fn call_with_timeout<M>(&self, req: &M, timeout: Duration) -> Result<M::Reply>
    where
        M: Request + Sync,
    {
        self.rt.block_on(self.conn.call_with_timeout(req, timeout))
    }

    /// A legacy dump, collected.
    pub fn dump<M>(&self, req: &M) -> Result<Vec<M::Details>>
    where
        M: Dump + Sync,
    {
        self.rt.block_on(async {
            let mut s = self.conn.dump(req).await?;
            let mut out = Vec::new();
            while let Some(d) = s.next().await {
                out.push(d?);
            }
            Ok(out)
        })
    }

    /// Fire-and-forget.
    pub fn send<M: Message + Sync>(&self, msg: &M) -> Result<()> {
        self.rt.block_on(self.conn.send(msg))
    }

    /// The current state.
    pub fn state(&self) -> ConnState {
        *self.conn.state().borrow()
    }

    /// Close (see [`Connection::close`]).
    pub fn close(self) {
        self.rt.block_on(self.conn.close());
    }
}
