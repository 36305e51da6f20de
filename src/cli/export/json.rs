//! The full structured result, pretty-printed: what `--json` prints.

use super::{Exported, Exporter};

/// The full structured result.
pub struct Json;

impl Exporter for Json {
    fn serialize(&self, what: Exported) -> Vec<u8> {
        let value = match what {
            Exported::Run(r) => serde_json::to_vec_pretty(r),
            Exported::E2e(r) => serde_json::to_vec_pretty(r),
            Exported::Keep(k) => serde_json::to_vec_pretty(k),
            Exported::History(h) => serde_json::to_vec_pretty(h),
        };
        let mut bytes = value.expect("results serialize");
        bytes.push(b'\n');
        bytes
    }
}
