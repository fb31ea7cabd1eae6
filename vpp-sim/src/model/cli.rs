//! The CLI (`cli_inband`, vlib.api): the few commands the models can answer.

use vppapi_binapi::vlib::{CliInband, CliInbandReply};
use vppapi_codec::api_errno::UNIMPLEMENTED;

use super::Model;
use crate::handlers::{lossy, Handlers};
use crate::trace::{format_entry, TraceEntry};

pub(super) fn register(h: &mut Handlers) {
    // A view: VPP takes the command's bytes as they are.
    // `api trace ...` reads the server's trace; everything else is the model's.
    h.on_core_view::<CliInband, _>(|core, _, req| {
        let cmd = lossy(req.cmd_bytes());
        let words: Vec<&str> = cmd.split_whitespace().collect();
        if let ["api", "trace", args @ ..] = words.as_slice() {
            let fmts = &core.fmts;
            let fmt = |index: usize, e: &TraceEntry| {
                let b = |i: usize| e.bytes.get(i).copied().unwrap_or(0);
                let id = u16::from_be_bytes([b(0), b(1)]);
                let f = fmts.get(usize::from(id)).copied().flatten();
                format_entry(index, e, f.and_then(|f| f(&e.bytes)))
            };
            let reply = core.trace.cli(args, &fmt);
            return CliInbandReply { retval: 0, reply };
        }
        let (retval, reply) = core.model.cli(&cmd);
        CliInbandReply { retval, reply }
    });
}

impl Model {
    /// Runs one command: (retval, output).
    fn cli(&self, cmd: &str) -> (i32, String) {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.as_slice() {
            ["show", "interface"] | ["sh", "int"] | ["show", "int"] => (0, self.show_interface()),
            ["show", "lb", "vips"] => (0, self.lb.show_vips(false)),
            ["show", "lb", "vips", "verbose"] => (0, self.lb.show_vips(true)),
            ["show", "version"] => (0, "vpp v26.06-release built by vpp-sim\n".to_string()),
            _ => (
                UNIMPLEMENTED,
                format!("vpp-sim: CLI command not modelled: `{cmd}'\n"),
            ),
        }
    }

    fn show_interface(&self) -> String {
        let mut s = format!(
            "{}{}{}{}{}{}\n",
            center("Name", 32),
            center("Idx", 5),
            center("State", 10),
            center("MTU (L3/IP4/IP6/MPLS)", 21),
            center("Counter", 16),
            center("Count", 16)
        );
        for i in self.ifaces() {
            let m = i.mtu;
            s.push_str(&format!(
                "{:<32}{}{}{}\n",
                i.name,
                center(&i.sw_if_index.to_string(), 5),
                center(if i.admin_up { "up" } else { "down" }, 10),
                center(&format!("{}/{}/{}/{}", m[0], m[1], m[2], m[3]), 21)
            ));
        }
        s
    }
}

/// vppinfra's `%=Ns`: centred, an odd extra space on the left.
pub fn center(s: &str, w: usize) -> String {
    let pad = w.saturating_sub(s.len());
    format!("{}{}{}", " ".repeat(pad - pad / 2), s, " ".repeat(pad / 2))
}
