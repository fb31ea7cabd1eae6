//! The API trace, as VPP's `api trace` (RX side): every request message received on any
//! connection (socket or shared memory), in arrival order, in a bounded ring.
//!
//! Followed from VPP 26.06:
//! * `vlibapi/api_shared.c` `msg_handler_internal` / `vlibmemory/memory_api.c`: a message is
//!   traced when its ID is known and has a handler, *before* the size check and before the
//!   handler resolves `client_index`, so truncated requests and requests with a bad
//!   `client_index` are traced too; unknown IDs are not.
//! * `vl_msg_api_trace`: messages configured with `traced = 0` are not: `sockclnt_create`,
//!   `sockclnt_delete`, `sock_init_shm` (`socket_api.c`), `memclnt_create[_v2]`,
//!   `memclnt_delete`, `memclnt_keepalive[_reply]` (`memory_api.c`). The copy is the whole
//!   message from `_vl_msg_id` on (`data_len` bytes), which is what [`TraceEntry::bytes`] holds
//!   (the 16-byte socket header is not part of it).
//! * The ring: `nitems` entries (`api trace on` configures 256 Ki); when full the oldest is
//!   overwritten (`wrapped`); walks go oldest first (`vl_msg_traverse_trace`).
//! * `vlib_api_cli.c` `api_trace_command_fn`: `on [nitems N]` reconfigures (which frees what
//!   was traced) and enables, `off` disables, `free` disables and frees, `status` prints
//!   `format_vl_msg_api_trace_status`, `dump` prints every message with its generated
//!   `vl_api_<name>_t_format` (`vl_api_<name>_t:` then one `  field: value` line per field but
//!   `_vl_msg_id`, `client_index` and `context`).
//!
//! The simulator's trace is on from the start (as VPP with `api-trace { on }` in its startup
//! configuration, which every packaged `startup.conf` has).

use std::collections::VecDeque;

use vppapi_codec::{decode_message, Message};

/// VPP's default ring size (`api trace on` without `nitems`: `256 << 10`).
pub const DEFAULT_NITEMS: usize = 256 << 10;

/// One traced request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Arrival number since the simulator started (not reset by clearing the trace).
    pub seq: u64,
    /// Message name without its CRC (`sw_interface_dump`).
    pub name: &'static str,
    /// `name_crc` as in the message table (`sw_interface_dump_aa610c27`).
    pub name_crc: &'static str,
    /// The request's `client_index` field as a big-endian number (socket clients:
    /// `0x8000_0000 | registration`), 0 if the message has none or is too short.
    pub client_index: u32,
    /// The request's `context`, 0 if the message has none or is too short.
    pub context: u32,
    /// The whole message as received, from `_vl_msg_id` on (the socket frame's body).
    pub bytes: Vec<u8>,
}

/// Formats a request's fields (`None`: does not decode).
pub(crate) type Fmt = fn(&[u8]) -> Option<Vec<(String, String)>>;

/// The fields of a decoded message, from its `Debug` form (`Name { a: 1, b: X(2) }`).
pub(crate) fn fields_of<M: Message + std::fmt::Debug>(
    body: &[u8],
) -> Option<Vec<(String, String)>> {
    let (_, msg, _) = decode_message::<M>(body).ok()?;
    Some(split_debug(&format!("{msg:?}")))
}

/// Splits `Name { a: 1, b: [1, 2] }` into its top-level `(field, value)` pairs.
fn split_debug(s: &str) -> Vec<(String, String)> {
    let Some(open) = s.find(" { ") else {
        return Vec::new();
    };
    let inner = s[open + 3..].strip_suffix(" }").unwrap_or(&s[open + 3..]);
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut esc, mut start) = (0i32, false, false, 0usize);
    let bytes = inner.as_bytes();
    let mut push = |part: &str| {
        if let Some((k, v)) = part.split_once(": ") {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    };
    for (i, &c) in bytes.iter().enumerate() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&inner[start..]);
    out
}

/// The RX trace ring (`vl_api_trace_t`).
#[derive(Debug)]
pub(crate) struct ApiTrace {
    ring: VecDeque<TraceEntry>,
    nitems: usize,
    enabled: bool,
    wrapped: bool,
    next_seq: u64,
}

impl Default for ApiTrace {
    fn default() -> Self {
        ApiTrace {
            ring: VecDeque::new(),
            nitems: DEFAULT_NITEMS,
            enabled: true,
            wrapped: false,
            next_seq: 0,
        }
    }
}

/// Whether VPP traces the message (`traced = 0` for the session messages).
pub(crate) fn traced(name: &str) -> bool {
    !matches!(
        name,
        "sockclnt_create"
            | "sockclnt_delete"
            | "sock_init_shm"
            | "memclnt_create"
            | "memclnt_create_v2"
            | "memclnt_delete"
            | "memclnt_keepalive"
            | "memclnt_keepalive_reply"
    )
}

impl ApiTrace {
    /// Records one received message (when on).
    pub(crate) fn record(
        &mut self,
        name: &'static str,
        name_crc: &'static str,
        client_index: u32,
        context: u32,
        body: &[u8],
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if !self.enabled || self.nitems == 0 {
            return;
        }
        // A full ring reuses the oldest record's buffer (as VPP reuses its vector).
        let mut bytes = if self.ring.len() >= self.nitems {
            self.wrapped = true;
            self.ring.pop_front().map(|e| e.bytes).unwrap_or_default()
        } else {
            Vec::new()
        };
        bytes.clear();
        bytes.extend_from_slice(body);
        self.ring.push_back(TraceEntry {
            seq,
            name,
            name_crc,
            client_index,
            context,
            bytes,
        });
    }

    pub(crate) fn entries(&self) -> Vec<TraceEntry> {
        self.ring.iter().cloned().collect()
    }

    /// `vl_msg_api_trace_free` (the on/off state is left alone).
    pub(crate) fn clear(&mut self) {
        self.ring = VecDeque::new();
        self.wrapped = false;
    }

    pub(crate) fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// `api trace ...` (`api_trace_command_fn`, RX side): the CLI output.
    pub(crate) fn cli(
        &mut self,
        args: &[&str],
        fmt: &dyn Fn(usize, &TraceEntry) -> String,
    ) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < args.len() {
            match args[i] {
                "on" | "enable" => {
                    // vl_msg_api_trace_configure frees what was traced.
                    let mut n = DEFAULT_NITEMS;
                    if args.get(i + 1) == Some(&"nitems") {
                        if let Some(v) = args.get(i + 2).and_then(|v| v.parse().ok()) {
                            n = v;
                            i += 2;
                        }
                    }
                    self.clear();
                    self.nitems = n;
                    self.enabled = true;
                }
                "off" => self.enabled = false,
                "free" => {
                    self.enabled = false;
                    self.clear();
                }
                "status" => out.push_str(&format!(
                    "RX trace: used {} of {} items, {} enabled, {} wrapped\n",
                    self.ring.len(),
                    self.nitems,
                    if self.enabled { "is" } else { "is not" },
                    if self.wrapped { "has" } else { "has not" },
                )),
                "dump" => {
                    for (n, e) in self.ring.iter().enumerate() {
                        out.push_str(&fmt(n, e));
                    }
                }
                _ => {
                    // clib_error_return (0, "unknown input `%U'", ...): the rest of the line.
                    out.push_str(&format!(
                        "api trace: unknown input `{}'\n",
                        args[i..].join(" ")
                    ));
                    break;
                }
            }
            i += 1;
        }
        out
    }
}

/// One message as `api trace dump` prints it: `format_vl_api_msg_text` (the generated
/// `vl_api_<name>_t_format`) then the newline of `vlib_cli_output (vm, "%U\n", ...)`. The
/// simulator prefixes the record's index in the ring with the separator VPP's
/// `api trace dump-file` prints (`---------- trace N -----------`). Field values are the
/// typed bindings' `Debug` form; a request the simulator has no type for prints its bytes.
pub(crate) fn format_entry(
    index: usize,
    e: &TraceEntry,
    fields: Option<Vec<(String, String)>>,
) -> String {
    let mut s = format!("---------- trace {index} -----------\nvl_api_{}_t:", e.name);
    match fields {
        Some(fs) => {
            for (k, v) in fs {
                s.push_str(&format!("\n  {k}: {v}"));
            }
        }
        None => {
            let hex: String = e.bytes.iter().map(|b| format!("{b:02x}")).collect();
            s.push_str(&format!("\n  [raw]: {hex}"));
        }
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_fields_split_at_top_level() {
        let f = split_debug(r#"X { a: 1, b: Y(2, 3), c: "x, y", d: [1, 2] }"#);
        let want = [
            ("a", "1"),
            ("b", "Y(2, 3)"),
            ("c", "\"x, y\""),
            ("d", "[1, 2]"),
        ];
        assert_eq!(f.len(), 4);
        for ((k, v), (wk, wv)) in f.iter().zip(want) {
            assert_eq!((k.as_str(), v.as_str()), (wk, wv));
        }
        assert!(split_debug("ControlPing").is_empty());
    }

    #[test]
    fn ring_wraps_oldest_first() {
        let mut t = ApiTrace::default();
        let _ = t.cli(&["on", "nitems", "3"], &|_, _| String::new());
        for c in 0..5u32 {
            t.record("control_ping", "control_ping_51077d14", 0, c, &[0, 1]);
        }
        let ctx: Vec<u32> = t.entries().iter().map(|e| e.context).collect();
        assert_eq!(ctx, [2, 3, 4]);
        let st = t.cli(&["status"], &|_, _| String::new());
        assert_eq!(st, "RX trace: used 3 of 3 items, is enabled, has wrapped\n");
        let _ = t.cli(&["free"], &|_, _| String::new());
        assert!(t.entries().is_empty());
        t.record("control_ping", "control_ping_51077d14", 0, 9, &[0, 1]);
        assert!(t.entries().is_empty(), "free turns the trace off");
    }
}
