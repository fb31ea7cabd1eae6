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
    /// Runs one command: (retval, output). Errors print as vlib's dispatcher prints them
    /// (`<command path>: <error>`) with retval -1 (`vlib_cli_input`'s `rv` for a
    /// `clib_error_t` without code); commands the simulator does not model answer
    /// `VNET_API_ERROR_UNIMPLEMENTED` and say so.
    pub(crate) fn cli(&mut self, cmd: &str) -> (i32, String) {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        if let Some(r) = self.lb_cli(cmd, &words) {
            return r;
        }
        if let Some(r) = self.pg_cli(cmd, &words) {
            return r;
        }
        match words.as_slice() {
            ["create", "packet-generator", "interface", ..] => {
                self.create_pg_cli(Input::after(cmd, 3))
            }
            ["set", "interface", "ip", "address", ..] => {
                self.set_ip_address_cli(Input::after(cmd, 4))
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
            ["show", "lb"] => {
                let now = self.lb_now();
                (0, self.lb.show(now))
            }
            // cli.c lb_show_vips_command_fn: no line input, nothing printed (1.2.0: the short
            // format); `verbose` must be the first word (anything else: the short format).
            ["show", "lb", "vips"] if self.lb.api_1_2 => {
                self.lb_now();
                (0, self.lb.show_vips(false))
            }
            ["show", "lb", "vips"] => (0, String::new()),
            ["show", "lb", "vips", first, ..] => {
                self.lb_now();
                (0, self.lb.show_vips(*first == "verbose"))
            }
            ["show", "version"] => (0, "vpp v26.06-release built by vpp-sim\n".to_string()),
            _ => (
                UNIMPLEMENTED,
                format!("vpp-sim: CLI command not modelled: `{cmd}'\n"),
            ),
        }
    }

    /// pg/cli.c `create_pg_if_cmd_fn`: `pgN` (without it `pg-1`, if_id ~0) and flags; prints
    /// nothing.
    fn create_pg_cli(&mut self, mut i: Input) -> (i32, String) {
        const PATH: &str = "create packet-generator interface";
        if i.at_end() {
            return (0, String::new());
        }
        let mut id = u32::MAX;
        while !i.at_end() {
            if let Some(n) = i.value(|s| s.strip_prefix("pg")?.parse::<u32>().ok()) {
                id = n;
            } else if i.keyword("coalesce-enabled") || i.keyword("csum-offload-enabled") {
            } else if i.keyword("gso-enabled") {
                if i.keyword_value("gso-size", |s| s.parse::<u32>().ok())
                    .is_none()
                {
                    return cli_error(PATH, "gso enabled but gso size missing");
                }
            } else if i.keyword_value("hw-addr", parse_mac).is_some()
                || i.keywords(&["mode", "ip4"])
                || i.keywords(&["mode", "ip6"])
            {
            } else {
                return cli_error(PATH, &format!("unknown input `{}'", i.rest()));
            }
        }
        self.create_pg(id);
        (0, String::new())
    }

    pub(super) fn sw_by_name(&self, name: &str) -> Option<u32> {
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

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut m = [0u8; 6];
    let mut parts = s.split(':');
    for b in m.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

/// `<path>: <msg>` with retval -1, as `vlib_cli_input` reports a command's error.
pub(super) fn cli_error(path: &str, msg: &str) -> (i32, String) {
    (-1, format!("{path}: {msg}\n"))
}

/// One command's input as vppinfra's `unformat` walks it: whitespace-separated tokens with
/// their offsets, for `format_unformat_error` ([`Input::rest`]).
pub(super) struct Input<'a> {
    s: &'a str,
    toks: Vec<(usize, &'a str)>,
    pos: usize,
    braces: bool,
}

impl<'a> Input<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Input::tokens(s, false)
    }

    /// Like [`Input::new`], with `{` and `}` tokens of their own (vlib's sub-inputs).
    pub(super) fn with_braces(s: &'a str) -> Self {
        Input::tokens(s, true)
    }

    fn tokens(s: &'a str, braces: bool) -> Self {
        let mut toks = Vec::new();
        let mut start = None;
        for (i, c) in s.char_indices() {
            let brace = braces && (c == '{' || c == '}');
            if c.is_whitespace() || brace {
                if let Some(st) = start.take() {
                    toks.push((st, &s[st..i]));
                }
                if brace {
                    toks.push((i, &s[i..i + 1]));
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(st) = start {
            toks.push((st, &s[st..]));
        }
        Input {
            s,
            toks,
            pos: 0,
            braces,
        }
    }

    /// The input after the first `n` words (the command's path).
    pub(super) fn after(s: &'a str, n: usize) -> Self {
        Input::new(s).skip(n)
    }

    /// This input from its `n`-th token on.
    pub(super) fn skip(mut self, n: usize) -> Self {
        self.pos = n.min(self.toks.len());
        self
    }

    /// The index of the `}` closing the `{` at the current token (or the end).
    pub(super) fn matching_brace(&self) -> usize {
        let mut depth = 0;
        for (k, t) in self.toks.iter().enumerate().skip(self.pos) {
            match t.1 {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return k;
                    }
                }
                _ => {}
            }
        }
        self.toks.len()
    }

    /// The current token's index.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// A new input over tokens `from..to` (`to` excluded) of this one.
    pub(super) fn slice(&self, from: usize, to: usize) -> Input<'a> {
        let off = |k: usize| self.toks.get(k).map_or(self.s.len(), |t| t.0);
        let (a, b) = (off(from), off(to.max(from)));
        Input::tokens(&self.s[a..b], self.braces)
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub(super) fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).map(|t| t.1)
    }

    pub(super) fn next(&mut self) -> Option<&'a str> {
        let t = self.peek()?;
        self.pos += 1;
        Some(t)
    }

    /// Steps back one token (after a `next` whose value did not parse).
    pub(super) fn back(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    /// The next token is `kw` (consumed).
    pub(super) fn keyword(&mut self, kw: &str) -> bool {
        self.keywords(&[kw])
    }

    /// The next tokens are `kws` (consumed only if all match).
    pub(super) fn keywords(&mut self, kws: &[&str]) -> bool {
        let ok = kws
            .iter()
            .enumerate()
            .all(|(n, k)| self.toks.get(self.pos + n).is_some_and(|t| t.1 == *k));
        if ok {
            self.pos += kws.len();
        }
        ok
    }

    /// The next token parsed by `f` (consumed only if it parses).
    pub(super) fn value<T>(&mut self, f: impl Fn(&'a str) -> Option<T>) -> Option<T> {
        let v = f(self.peek()?)?;
        self.pos += 1;
        Some(v)
    }

    /// `kw <value>` (consumed only if both match, as a failing `unformat` backs up).
    pub(super) fn keyword_value<T>(
        &mut self,
        kw: &str,
        f: impl Fn(&'a str) -> Option<T>,
    ) -> Option<T> {
        if self.peek() != Some(kw) {
            return None;
        }
        let v = f(self.toks.get(self.pos + 1)?.1)?;
        self.pos += 2;
        Some(v)
    }

    /// vppinfra `format_unformat_error`: the input from the current token on, at most 30
    /// bytes (then `...`), trailing white space cut, `\r`, `\n`, `\t` escaped.
    pub(super) fn rest(&self) -> String {
        let off = self.toks.get(self.pos).map_or(self.s.len(), |t| t.0);
        let r = &self.s[off..];
        let (shown, more) = if r.len() > 30 {
            let mut end = 30;
            while !r.is_char_boundary(end) {
                end -= 1;
            }
            (&r[..end], true)
        } else {
            (r.trim_end(), false)
        };
        let mut out = String::new();
        for c in shown.chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        if more {
            out.push_str("...");
        }
        out
    }
}
