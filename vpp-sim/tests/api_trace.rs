//! The API trace (`vpp_sim::Simulator::api_trace`, `cli_inband("api trace ...")`), following
//! VPP 26.06's `vl_msg_api_trace` (api_shared.c) and `api_trace_command_fn` (vlib_api_cli.c).

mod common;

use common::*;

fn cli(c: &mut Raw, ctx: u32, cmd: &str) -> String {
    let mut b = (cmd.len() as u32).to_be_bytes().to_vec();
    b.extend_from_slice(cmd.as_bytes());
    let r = c.call("cli_inband", ctx, &b);
    assert_eq!(rv(&r), 0, "{cmd}");
    let n = be32(&r, 10) as usize;
    String::from_utf8(r[14..14 + n].to_vec()).unwrap()
}

#[test]
fn every_request_is_traced_in_arrival_order() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t"); // sockclnt_create: traced = 0 in VPP
    c.call("control_ping", 7, &[]);
    let flags = c.req("sw_interface_set_flags", 8, &[0, 0, 0, 0, 0, 0, 0, 1]);
    c.send(&flags);
    c.recv().unwrap();
    // Truncated and bad-client_index requests are traced (VPP traces before both checks);
    // unknown IDs are not.
    let mut trunc = flags.clone();
    trunc.truncate(12);
    c.send(&trunc);
    let mut bad = c.req("control_ping", 9, &[]);
    bad[2..6].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    c.send(&bad);
    c.send(&[0x7f, 0xff, 0x80, 0, 0, 1, 0, 0, 0, 1]);
    c.call("control_ping", 10, &[]); // everything before it was handled
    let t = ts.sim().api_trace();
    let names: Vec<&str> = t.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "control_ping",
            "sw_interface_set_flags",
            "sw_interface_set_flags",
            "control_ping",
            "control_ping"
        ]
    );
    assert_eq!(t[1].name_crc, "sw_interface_set_flags_f5aec1b8");
    assert_eq!(t[1].client_index, 0x8000_0001);
    assert_eq!(t[1].context, 8);
    assert_eq!(t[1].bytes, flags, "the whole message from _vl_msg_id on");
    assert_eq!(t[2].bytes.len(), 12);
    assert_eq!(t[3].client_index, 0x1234_5678);
    assert!(t.windows(2).all(|w| w[0].seq < w[1].seq));

    ts.sim().api_trace_clear();
    assert!(ts.sim().api_trace().is_empty());
    c.call("control_ping", 11, &[]);
    assert_eq!(ts.sim().api_trace().len(), 1);
}

#[test]
fn api_trace_cli_dump_status_free_on_off() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    c.call("sw_interface_set_flags", 5, &[0, 0, 0, 0, 0, 0, 0, 1]);
    let dump = cli(&mut c, 6, "api trace dump");
    assert_eq!(
        dump,
        "---------- trace 0 -----------\n\
         vl_api_sw_interface_set_flags_t:\n  \
         sw_if_index: InterfaceIndex(0)\n  \
         flags: IF_STATUS_API_FLAG_ADMIN_UP\n\
         ---------- trace 1 -----------\n\
         vl_api_cli_inband_t:\n  \
         cmd: \"api trace dump\"\n"
    );
    assert_eq!(
        cli(&mut c, 7, "api trace status"),
        "RX trace: used 3 of 262144 items, is enabled, has not wrapped\n"
    );
    // free: off and empty (api_trace_command_fn calls onoff(0) then free).
    assert_eq!(cli(&mut c, 8, "api trace free"), "");
    c.call("control_ping", 9, &[]);
    assert!(ts.sim().api_trace().is_empty());
    assert_eq!(cli(&mut c, 10, "api trace dump"), "");
    // on: configured anew and enabled (the `on` command itself was received while off).
    cli(&mut c, 11, "api trace on nitems 2");
    c.call("control_ping", 12, &[]);
    c.call("control_ping", 13, &[]);
    c.call("control_ping", 14, &[]);
    let ctx: Vec<u32> = ts.sim().api_trace().iter().map(|e| e.context).collect();
    assert_eq!(ctx, [13, 14], "a ring of 2, oldest dropped");
    cli(&mut c, 15, "api trace off");
    c.call("control_ping", 16, &[]);
    assert_eq!(ts.sim().api_trace().len(), 2);
    ts.sim().api_trace_enable(true);
    c.call("control_ping", 17, &[]);
    assert_eq!(ts.sim().api_trace().last().unwrap().context, 17);
}
