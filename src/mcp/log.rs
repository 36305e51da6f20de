//! MCP logging (`logging/setLevel`, `notifications/message`): a run's
//! per-process lines go to the client at `info`, its warnings at `warning`,
//! filtered by the level the client set (`warning` until it sets one).
//! stderr stays the operator's. MCP's logging is deprecated by SEP-2577
//! (rmcp marks it so); it is kept while clients still ask for it.
#![allow(deprecated)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::Peer;
use rmcp::RoleServer;

/// Syslog order, as MCP's levels are: 0 = debug … 7 = emergency.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// The lowest level the client wants, shared by every call of a session.
#[derive(Debug, Clone)]
pub struct LogFloor(Arc<AtomicU8>);

impl Default for LogFloor {
    fn default() -> Self {
        LogFloor(Arc::new(AtomicU8::new(severity(LoggingLevel::Warning))))
    }
}

/// The levels abbench sends at.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    /// Per-process progress lines.
    Info,
    /// A run's warnings.
    Warning,
}

impl LogFloor {
    /// What `logging/setLevel` asked for.
    pub fn set(&self, level: LoggingLevel) {
        self.0.store(severity(level), Ordering::Relaxed);
    }

    /// Sends `text` to the client when `level` is at or above the floor.
    pub async fn send(&self, peer: &Peer<RoleServer>, level: Level, text: &str) {
        let level = match level {
            Level::Info => LoggingLevel::Info,
            Level::Warning => LoggingLevel::Warning,
        };
        if severity(level) < self.0.load(Ordering::Relaxed) {
            return;
        }
        let param = LoggingMessageNotificationParam::new(level, text.into()).with_logger("abbench");
        let _ = peer.notify_logging_message(param).await;
    }
}
