//! Specific codec behaviour: defaults, header shapes, errors, enums, flags, unions, addresses.

mod common;

use common::msgs::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vppapi_codec::{
    context_of, decode_message, encode_message, message_len, DecodeError, EncodeError, Header,
    Message, MessageKind, Wire,
};
use vppapi_codec::{
    Address, AddressFamily, AddressUnion, AddressWithPrefix, InterfaceIndex, MacAddress, Prefix,
};

#[test]
fn message_constants() {
    assert_eq!(ControlPing::NAME_CRC, "control_ping_51077d14");
    assert_eq!(
        BridgeDomainDetails::NAME_CRC,
        "bridge_domain_details_0fa506fd"
    );
    assert_eq!(SwInterfaceEvent::KIND, MessageKind::Event);
    assert_eq!(SwInterfaceEvent::HEADER, Header::ClientIndex);
    assert_eq!(SockclntCreate::HEADER, Header::Context);
    assert_eq!(SockclntCreateReply::CONTEXT_OFFSET, Some(6));
    assert_eq!(ControlPingReply::CONTEXT_OFFSET, Some(2));
    assert_eq!(SwInterfaceEvent::CONTEXT_OFFSET, None);
    assert_eq!(SwInterfaceDetails::FIXED_SIZE + 6, 295);
    assert_eq!(LbVipDetails::FIXED_SIZE + 6, 40);
}

#[test]
fn defaults_apply() {
    let d = SwInterfaceDump::default();
    assert_eq!(d.sw_if_index, InterfaceIndex::NONE);
    assert!(IpRouteAddDel::default().is_add);
    assert_eq!(LbAddDelAs::default().protocol, 255);
    assert_eq!(GetF64EndianValue::default().f64_one, 1.0);
}

#[test]
fn worked_example_sw_interface_dump() {
    // vpp-wire.md 2.7: 19 bytes with an empty name filter.
    let mut buf = [0u8; 32];
    let n = encode_message(
        &SwInterfaceDump::default(),
        0x0123,
        [0x80, 0, 0, 1],
        2,
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        &buf[..n],
        &[0x01, 0x23, 0x80, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]
    );
    assert_eq!(context_of(&buf[..n], SwInterfaceDump::HEADER), Some(2));
}

#[test]
fn f64_is_little_endian() {
    let b = GetF64EndianValue::default().encode_to_vec().unwrap();
    assert_eq!(b, 1.0f64.to_le_bytes());
}

#[test]
fn fixed_string_too_long_is_an_error() {
    let m = SockclntCreate {
        name: "x".repeat(64),
    };
    assert_eq!(
        m.encode_to_vec(),
        Err(EncodeError::StringTooLong {
            ty: "sockclnt_create",
            field: "name",
            len: 64,
            size: 64
        })
    );
    assert!(SockclntCreate {
        name: "x".repeat(63)
    }
    .encode_to_vec()
    .is_ok());
}

#[test]
fn invalid_utf8_is_an_error() {
    let mut b = SockclntCreate { name: "ab".into() }
        .encode_to_vec()
        .unwrap();
    b[0] = 0xff;
    assert!(matches!(
        SockclntCreate::decode(&b),
        Err(DecodeError::InvalidUtf8 { field: "name", .. })
    ));
    // The view is built (lengths are fine); the accessor reports the bad string.
    let (v, _) = SockclntCreate::view(&b).unwrap();
    assert!(v.name().is_err());
    assert_eq!(v.name_bytes(), &[0xff, b'b']);
    let mut c = CliInband { cmd: "show".into() }.encode_to_vec().unwrap();
    c[4] = 0xc3;
    assert!(matches!(
        CliInband::decode(&c),
        Err(DecodeError::InvalidUtf8 { field: "cmd", .. })
    ));
}

#[test]
fn count_beyond_frame_is_an_error_without_allocating() {
    let m = BridgeDomainDetails {
        sw_if_details: vec![BridgeDomainSwIf {
            context: 1,
            sw_if_index: InterfaceIndex(2),
            shg: 3,
        }],
        ..Default::default()
    };
    let mut b = m.encode_to_vec().unwrap();
    // n_sw_ifs sits right before the VLA: claim 2^32-1 elements.
    let at = BridgeDomainDetails::FIXED_SIZE - 4;
    b[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    match BridgeDomainDetails::decode(&b) {
        Err(DecodeError::LengthBeyondFrame {
            field: "sw_if_details",
            count,
            ..
        }) => assert_eq!(count, u64::from(u32::MAX)),
        other => panic!("{other:?}"),
    }
    assert!(BridgeDomainDetails::view(&b).is_err());
    let mut s = CliInbandReply {
        retval: 0,
        reply: "ok".into(),
    }
    .encode_to_vec()
    .unwrap();
    s[4..8].copy_from_slice(&1000u32.to_be_bytes());
    assert!(matches!(
        CliInbandReply::decode(&s),
        Err(DecodeError::LengthBeyondFrame { .. })
    ));
}

#[test]
fn vla_count_is_derived_and_checked() {
    let route = IpRoute {
        paths: vec![FibPath::default(); 3],
        ..Default::default()
    };
    let b = route.encode_to_vec().unwrap();
    assert_eq!(b[4 + 4 + 18], 3, "n_paths written from paths.len()");
    let too_many = IpRoute {
        paths: vec![FibPath::default(); 256],
        ..Default::default()
    };
    assert!(matches!(
        too_many.encode_to_vec(),
        Err(EncodeError::CountOverflow {
            field: "n_paths",
            max: 255,
            ..
        })
    ));
}

#[test]
fn views_iterate_without_copying() {
    let m = IpRouteAddDel {
        route: IpRoute {
            table_id: 7,
            prefix: "10.0.0.0/8".parse().unwrap(),
            paths: (0..4)
                .map(|i| FibPath {
                    sw_if_index: i,
                    weight: 1,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        },
        ..Default::default()
    };
    let b = m.encode_to_vec().unwrap();
    let (v, _) = IpRouteAddDel::view(&b).unwrap();
    assert!(v.is_add());
    let r = v.route();
    assert_eq!(r.table_id(), 7);
    assert_eq!(r.prefix().len(), 8);
    assert_eq!(
        r.prefix().address().to_owned().unwrap(),
        Address::from(Ipv4Addr::new(10, 0, 0, 0))
    );
    let idx: Vec<u32> = r.paths().iter().map(|p| p.sw_if_index()).collect();
    assert_eq!(idx, [0, 1, 2, 3]);
    assert_eq!(r.paths().get(2).unwrap().label_stack().len(), 16);
    assert!(r.paths().get(4).is_none());
}

#[test]
fn enums_keep_unknown_values() {
    let mut b = SwInterfaceDetails::default().encode_to_vec().unwrap();
    b[18..22].copy_from_slice(&77u32.to_be_bytes()); // `type`
    let d = SwInterfaceDetails::decode(&b).unwrap().0;
    assert_eq!(d.r#type, IfType(77));
    assert_eq!(format!("{:?}", d.r#type), "IfType(77)");
    assert_eq!(format!("{:?}", IfType::IF_API_TYPE_SUB), "IF_API_TYPE_SUB");
    assert_eq!(d.encode_to_vec().unwrap(), b);
    assert!(matches!(IfType(1), IfType::IF_API_TYPE_SUB));
}

#[test]
fn flags_print_and_keep_unknown_bits() {
    let f = IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP | IfStatusFlags::IF_STATUS_API_FLAG_LINK_UP;
    assert_eq!(
        f.to_string(),
        "IF_STATUS_API_FLAG_ADMIN_UP|IF_STATUS_API_FLAG_LINK_UP"
    );
    let g = IfStatusFlags(0x11);
    assert_eq!(format!("{g:?}"), "IF_STATUS_API_FLAG_ADMIN_UP|0x10");
    assert_eq!(g.unknown_bits(), 0x10);
    assert!(f.contains(IfStatusFlags::IF_STATUS_API_FLAG_LINK_UP));
    assert_eq!(FibPathFlags(0).to_string(), "FIB_API_PATH_FLAG_NONE");
    assert_eq!(IpFlowHashConfig(0).to_string(), "0");
}

#[test]
fn addresses_convert_and_encode_like_vpp() {
    let p: AddressWithPrefix = "10.10.1.2/24".parse().unwrap();
    let m = SwInterfaceAddDelAddress {
        sw_if_index: InterfaceIndex(1),
        is_add: true,
        del_all: false,
        prefix: p,
    };
    let mut buf = [0u8; 64];
    let n = encode_message(&m, 0x0102, [1, 2, 3, 4], 0x0a0b0c0d, &mut buf).unwrap();
    // papi_oracle.py demo: the same bytes by hand.
    let mut want = vec![
        0x01, 0x02, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 1, 1, 0, 0, 10, 10, 1, 2,
    ];
    want.extend([0u8; 12]);
    want.push(24);
    assert_eq!(&buf[..n], &want[..]);
    assert_eq!(p.to_string(), "10.10.1.2/24");
    let six: Prefix = "2001:db8::1/64".parse().unwrap();
    assert_eq!(
        IpAddr::try_from(six.address).unwrap(),
        "2001:db8::1".parse::<Ipv6Addr>().unwrap()
    );
    assert!("10.0.0.1/33".parse::<Prefix>().is_err());
    // An unknown family decodes into `Other`, bytes kept.
    let mut b = Address::from(Ipv4Addr::LOCALHOST).encode_to_vec().unwrap();
    b[0] = 9;
    b[16] = 0xee;
    let a = Address::decode(&b).unwrap().0;
    assert!(matches!(a, Address::Other(AddressFamily(9), _)));
    assert!(IpAddr::try_from(a).is_err());
    assert_eq!(a.encode_to_vec().unwrap(), b);
    // Plain union accessors.
    let u = AddressUnion::from(Ipv4Addr::new(1, 2, 3, 4));
    assert_eq!(Ipv4Addr::from(u.ip4().unwrap()), Ipv4Addr::new(1, 2, 3, 4));
    assert_eq!(u.ip6().unwrap().0[..4], [1, 2, 3, 4]);
    let mac: MacAddress = "de:ad:be:ef:00:01".parse().unwrap();
    assert_eq!(mac.to_string(), "de:ad:be:ef:00:01");
    assert!("de:ad:be:ef:00".parse::<MacAddress>().is_err());
}

#[test]
fn header_shapes() {
    // Event: client_index at 2, no context, body at 6.
    let e = SwInterfaceEvent {
        pid: 5,
        sw_if_index: InterfaceIndex(1),
        flags: IfStatusFlags(3),
        deleted: false,
    };
    let mut buf = vec![0u8; message_len(&e)];
    encode_message(&e, 9, [0x80, 0, 0, 7], 1234, &mut buf).unwrap();
    assert_eq!(buf.len(), 19);
    assert_eq!(&buf[2..6], &[0x80, 0, 0, 7]);
    assert_eq!(&buf[6..10], &5u32.to_be_bytes());
    let (h, back, _) = decode_message::<SwInterfaceEvent>(&buf).unwrap();
    assert_eq!(
        (h.client_index, h.context, back),
        (Some([0x80, 0, 0, 7]), None, e)
    );
    // sockclnt_create: context only, 70 bytes.
    let s = SockclntCreate { name: "x".into() };
    assert_eq!(message_len(&s), 70);
    assert!(matches!(
        decode_message::<ControlPing>(&[0, 23, 0]),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn limit_is_enforced() {
    use vppapi_codec::VppMessage;
    #[derive(Debug, Clone, PartialEq, VppMessage)]
    #[vpp(name = "limited", crc = 0x1, kind = "request")]
    struct Limited {
        #[vpp(string, limit = 4)]
        s: String,
    }
    assert!(Limited { s: "abcd".into() }.encode_to_vec().is_ok());
    assert!(matches!(
        Limited { s: "abcde".into() }.encode_to_vec(),
        Err(EncodeError::LimitExceeded { limit: 4, .. })
    ));
}

#[test]
fn deprecated_messages_derive_without_warnings() {
    use vppapi_codec::VppMessage;
    // The crate denies warnings in CI (clippy -D warnings): the derive's own code must not
    // trip `deprecated`; only a user's own use of the type warns.
    #[deprecated(note = "use bridge_domain_add_del_v2")]
    #[derive(Debug, Clone, PartialEq, VppMessage)]
    #[vpp(name = "bridge_domain_add_del", crc = 0x600b7170, kind = "request")]
    struct BridgeDomainAddDel {
        bd_id: u32,
        #[vpp(default = true)]
        is_add: bool,
    }
    #[allow(deprecated)]
    let m = BridgeDomainAddDel::default();
    #[allow(deprecated)]
    let back = BridgeDomainAddDel::decode(&m.encode_to_vec().unwrap())
        .unwrap()
        .0;
    assert_eq!(back, m);
}

#[test]
fn unterminated_fixed_string_decodes_but_does_not_encode() {
    // Found by the fuzzer: all 64 bytes non-NUL. Receiving is lenient (keep the 64 bytes),
    // sending refuses (VPP needs the NUL): the one place decode -> encode is not a round trip.
    let b = [b'a'; 64];
    let m = SockclntCreate::decode(&b).unwrap().0;
    assert_eq!(m.name.len(), 64);
    assert!(matches!(
        m.encode_to_vec(),
        Err(EncodeError::StringTooLong {
            len: 64,
            size: 64,
            ..
        })
    ));
}

#[test]
fn bool_is_any_non_zero_byte() {
    let (e, _) = SwInterfaceEvent::decode(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 7]).unwrap();
    assert!(e.deleted);
    assert_eq!(e.encode_to_vec().unwrap()[12], 1);
}

#[test]
fn services_name_their_replies_details_and_events() {
    use vppapi_codec::{Dump, Request, Subscribe};
    fn reply_of<R: Request>() -> &'static str {
        <R::Reply as Message>::NAME
    }
    fn details_of<D: Dump>() -> &'static str {
        <D::Details as Message>::NAME
    }
    assert_eq!(reply_of::<ControlPing>(), "control_ping_reply");
    assert_eq!(reply_of::<IpRouteAddDel>(), "ip_route_add_del_reply");
    assert_eq!(details_of::<SwInterfaceDump>(), "sw_interface_details");
    assert_eq!(details_of::<LbVipDump>(), "lb_vip_details");
    assert_eq!(
        reply_of::<WantInterfaceEvents>(),
        "want_interface_events_reply"
    );
    assert_eq!(
        WantInterfaceEvents::EVENTS,
        &["sw_interface_event_2d3d95a7"]
    );
}

#[test]
fn integer_defaults_on_bools_follow_c_truth() {
    use vppapi_codec::VppMessage;
    // classify_pcap_set_table.sort_masks [default=0], sw_interface_set_vpath.enable
    // [default=0xffffffff] in the 26.06 JSON.
    #[derive(Debug, Clone, PartialEq, VppMessage)]
    #[vpp(name = "sw_interface_set_vpath", crc = 0xae6cfcfb, kind = "request")]
    struct SwInterfaceSetVpath {
        sw_if_index: InterfaceIndex,
        #[vpp(default = 4294967295)]
        enable: bool,
        #[vpp(default = 0)]
        other: bool,
    }
    let d = SwInterfaceSetVpath::default();
    assert!(d.enable && !d.other);
}
