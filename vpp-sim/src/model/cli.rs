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
    pub(crate) fn cli(&mut self, cmd: &str) -> (i32, String) {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.as_slice() {
            // pg/cli.c create_pg_if_cmd_fn: prints nothing.
            ["create", "packet-generator", "interface", name] => {
                match name.strip_prefix("pg").and_then(|n| n.parse::<u32>().ok()) {
                    Some(id) => {
                        self.create_pg(id);
                        (0, String::new())
                    }
                    None => (
                        0,
                        format!("create packet-generator interface: unknown input `{name}'\n"),
                    ),
                }
            }
            // l2_input.c int_l2_bridge: set interface l2 bridge <if> <bd> [bvi|uu-fwd] [<shg>]
            ["set", "interface", "l2", "bridge", ifname, bd, rest @ ..] => {
                let Some(sw) = self.sw_by_name(ifname) else {
                    return (0, format!("unknown input `{ifname}'\n"));
                };
                let Ok(bd_id) = bd.parse::<u32>() else {
                    return (0, format!("unknown input `{bd}'\n"));
                };
                let mut port_type = 0;
                let mut shg = 0u8;
                for w in rest {
                    match *w {
                        "bvi" => port_type = 1,
                        "uu-fwd" => port_type = 2,
                        n => shg = n.parse().unwrap_or(0),
                    }
                }
                match self.set_l2_bridge(sw, bd_id, port_type, shg, true) {
                    0 => (0, String::new()),
                    rv => (0, format!("set interface l2 bridge: error {rv}\n")),
                }
            }
            ["set", "interface", "state", ifname, state @ ("up" | "down")] => {
                match self.sw_by_name(ifname) {
                    Some(sw) => {
                        self.set_admin(sw, *state == "up");
                        (0, String::new())
                    }
                    None => (0, format!("unknown input `{ifname}'\n")),
                }
            }
            ["show", "interface"] | ["sh", "int"] | ["show", "int"] => (0, self.show_interface()),
            ["show", "lb"] => (0, self.lb.show()),
            // cli.c lb_show_vips_command_fn: no line input, nothing printed.
            ["show", "lb", "vips"] => (0, String::new()),
            ["show", "lb", "vips", _, ..] if !words.contains(&"verbose") => {
                (0, self.lb.show_vips(false))
            }
            ["show", "lb", "vips", "verbose"] => (0, self.lb.show_vips(true)),
            ["show", "version"] => (0, "vpp v26.06-release built by vpp-sim\n".to_string()),
            _ => (
                UNIMPLEMENTED,
                format!("vpp-sim: CLI command not modelled: `{cmd}'\n"),
            ),
        }
    }

    fn sw_by_name(&self, name: &str) -> Option<u32> {
        self.ifaces()
            .find(|i| i.name == name)
            .map(|i| i.sw_if_index)
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
