//! Cross-checks against the generated 26.06 bindings (`vppapi-binapi` with `full` and
//! `registry`, dev-dependency only): the simulator's message table (built from
//! `vppapi_binapi::table`) is exactly the bindings' registry (names, CRCs, modules, kinds,
//! header shape, sizes, offsets), and every frame the simulator sends in a scripted session
//! decodes with the typed bindings and re-encodes to the same bytes.

mod common;

use common::*;
use vpp_sim::table::MessageTable;

#[test]
fn table_is_the_binapi_registry() {
    let table = MessageTable::vpp_26_06();
    let reg: Vec<_> = vppapi_binapi::registry::messages().collect();
    assert_eq!(reg.len(), table.len());
    let mut nested = Vec::new();
    for e in reg {
        let id = table
            .id_by_name_crc(e.name_crc)
            .unwrap_or_else(|| panic!("{} missing from the table", e.name_crc));
        let t = table.info(id).unwrap();
        assert_eq!(
            (t.name, t.crc, t.module, t.kind, t.header),
            (e.name, e.crc, e.module, e.kind, e.header),
            "{}",
            e.name_crc
        );
        assert_eq!(t.retval_offset, e.retval_offset, "{}: retval", e.name_crc);
        assert_eq!(t.cursor_offset, e.cursor_offset, "{}: cursor", e.name_crc);
        // The table's size is VPP's `sizeof` (what `calc_size` checks, and the simulator's
        // truncation check): it counts a variable string's u32 length and the fixed fields of
        // a trailing typedef with a variable tail, which the bindings' `FIXED_SIZE` leaves to
        // the tail.
        if t.fixed_size != e.fixed_size {
            assert!(t.has_tail, "{}: fixed size without a tail", e.name_crc);
            assert!(t.fixed_size > e.fixed_size, "{}: fixed size", e.name_crc);
            nested.push(e.name);
        }
    }
    eprintln!("messages with a variable string or nested tail: {nested:?}");
    assert!(nested.contains(&"sw_interface_dump"));
    // vpp-wire.md 2.6: sw_interface_dump is 19 bytes even with an empty name filter.
    let d = table.info(table.id("sw_interface_dump").unwrap()).unwrap();
    assert_eq!(d.fixed_size, 19);
    // Every request's reply, details and events are messages of the table.
    for (_, t) in table.iter() {
        for nc in t.reply.iter().chain(&t.details).chain(t.events) {
            assert!(table.id_by_name_crc(nc).is_some(), "{}: {nc}", t.name);
        }
    }
}

/// Decodes a frame with the bindings and checks the re-encoding is byte-identical.
fn check_typed(frame: &[u8]) {
    let body = &frame[16..];
    let id = u16::from_be_bytes([body[0], body[1]]);
    let d = MessageTable::vpp_26_06().info(id).expect("known id");
    let e = vppapi_binapi::registry::by_name_crc(d.name_crc).expect("in registry");
    let (bytes, used) = e
        .reencode(body)
        .unwrap_or_else(|err| panic!("{}: {err}", d.name));
    assert_eq!(used, body.len(), "{}: trailing bytes", d.name);
    assert_eq!(bytes, body, "{}: typed re-encoding differs", d.name);
}

#[test]
fn every_simulator_frame_decodes_with_the_bindings() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("typed");
    let mut frames = Vec::new();
    let mut call = |c: &mut Raw, name: &str, ctx: u32, rest: &[u8], n: usize| {
        let b = c.req(name, ctx, rest);
        c.send(&b);
        for _ in 0..n {
            frames.push(c.recv().expect(name));
        }
    };
    call(&mut c, "show_version", 1, &[], 1);
    call(
        &mut c,
        "want_interface_events",
        2,
        &[0, 0, 0, 1, 0, 0, 0, 9],
        1,
    );
    call(&mut c, "create_loopback", 3, &[0; 6], 1);
    call(
        &mut c,
        "sw_interface_set_flags",
        4,
        &[0, 0, 0, 1, 0, 0, 0, 1],
        2,
    );
    let mut addr = vec![0, 0, 0, 1, 1, 0, 1];
    addr.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 64]);
    call(&mut c, "sw_interface_add_del_address", 5, &addr, 1);
    call(
        &mut c,
        "sw_interface_ip6_get_link_local_address",
        6,
        &[0, 0, 0, 1],
        1,
    );
    let mut bd = vec![0, 0, 0, 5, 1, 1, 1, 1, 0, 0, 0];
    bd.extend_from_slice(&[0; 64]);
    bd.push(1);
    call(&mut c, "bridge_domain_add_del_v2", 7, &bd, 1);
    call(
        &mut c,
        "sw_interface_set_l2_bridge",
        8,
        &[0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 1, 0, 1],
        1,
    );
    let mut vx = vec![1, 0xff, 0xff, 0xff, 0xff, 0, 10, 0, 0, 1];
    vx.extend_from_slice(&[0; 12]);
    vx.extend_from_slice(&[0, 10, 0, 0, 2]);
    vx.extend_from_slice(&[0; 12]);
    vx.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    vx.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 42, 0]);
    call(&mut c, "vxlan_add_del_tunnel_v3", 9, &vx, 1);
    for (name, rest, n) in [
        (
            "sw_interface_dump",
            vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0],
            3,
        ),
        ("ip_address_dump", vec![0, 0, 0, 1, 1], 1),
        ("bridge_domain_dump", vec![0xff; 8], 1),
        ("l2_fib_table_dump", vec![0, 0, 0, 5], 1),
        ("vxlan_tunnel_v2_dump", vec![0xff; 4], 1),
    ] {
        call(&mut c, name, 10, &rest, n);
        call(&mut c, "control_ping", 10, &[], 1);
    }
    let mut cli = vec![0, 0, 0, 14];
    cli.extend_from_slice(b"show interface");
    call(&mut c, "cli_inband", 11, &cli, 1);
    call(&mut c, "delete_loopback", 12, &[0, 0, 0, 1], 2);
    call(
        &mut c,
        "sw_interface_tx_placement_get",
        13,
        &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        1,
    );
    let def = MessageTable::vpp_26_06()
        .info(id("ip_table_add_del"))
        .unwrap();
    call(
        &mut c,
        "ip_table_add_del",
        14,
        &vec![0; def.fixed_size - 10],
        1,
    );
    assert!(frames.len() > 25);
    for f in &frames {
        check_typed(f);
    }
}
