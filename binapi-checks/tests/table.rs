//! The data-only message table the generator writes (`table::MESSAGES`, from the API model's
//! layouts) against what the derives compute from the Rust types (`Message` constants through
//! the registry): two independent derivations of every message's facts must agree, for every
//! message of every release.

use std::collections::BTreeSet;

#[test]
fn table_agrees_with_the_derived_constants_for_every_message() {
    type Tables = [(
        &'static str,
        Vec<&'static vppapi_codec::MessageInfo>,
        Vec<&'static vppapi_codec::registry::MessageEntry>,
    ); 3];
    let releases: Tables = [
        (
            "24.10",
            vppapi_binapi::v24_10::table::messages().collect(),
            vppapi_binapi::v24_10::registry::messages().collect(),
        ),
        (
            "25.06",
            vppapi_binapi::v25_06::table::messages().collect(),
            vppapi_binapi::v25_06::registry::messages().collect(),
        ),
        (
            "26.06",
            vppapi_binapi::table::messages().collect(),
            vppapi_binapi::registry::messages().collect(),
        ),
    ];
    let mut with_retval = 0;
    let mut with_cursor = 0;
    for (rel, table, reg) in &releases {
        assert_eq!(table.len(), reg.len(), "{rel}: table and registry sizes");
        for (t, e) in table.iter().zip(reg) {
            let what = format!("{rel} {}", t.name_crc);
            assert_eq!(t.name_crc, e.name_crc, "{what}: order");
            assert_eq!(
                (t.name, t.crc, t.module),
                (e.name, e.crc, e.module),
                "{what}"
            );
            assert_eq!((t.kind, t.header), (e.kind, e.header), "{what}");
            // The table's fixed size is the true minimum (it counts the fixed prefix of a
            // nested type that ends in the tail, e.g. `bier_route`); the codec's counts the
            // message's own fixed fields only. Without a tail both are the whole message.
            if t.has_tail {
                assert!(t.fixed_size >= e.fixed_size, "{what}: fixed size");
            } else {
                assert_eq!(t.fixed_size, e.fixed_size, "{what}: fixed size");
            }
            assert_eq!(t.retval_offset, e.retval_offset, "{what}: retval offset");
            assert_eq!(t.cursor_offset, e.cursor_offset, "{what}: cursor offset");
            with_retval += usize::from(t.retval_offset.is_some());
            with_cursor += usize::from(t.cursor_offset.is_some());
        }
        // Services name messages of the same release.
        let names: BTreeSet<&str> = table.iter().map(|t| t.name_crc).collect();
        for t in table {
            for n in t.reply.iter().chain(t.details.iter()).chain(t.events) {
                assert!(
                    names.contains(n),
                    "{rel} {}: {n} is not in the table",
                    t.name_crc
                );
            }
        }
    }
    assert_eq!(
        releases.iter().map(|r| r.1.len()).collect::<Vec<_>>(),
        [1836, 1907, 2030]
    );
    // Most replies have a retval; every cursor service has cursors on both sides.
    assert!(with_retval > 2000, "{with_retval} messages with retval");
    assert!(with_cursor >= 3 * 2, "{with_cursor} messages with a cursor");
}

#[test]
fn retval_is_read_in_place_at_the_declared_offset() {
    use vppapi_binapi::interface::SwInterfaceSetFlagsReply;
    use vppapi_codec::{encode_message, Message};
    let r = SwInterfaceSetFlagsReply { retval: -2 };
    let mut buf = [0u8; 16];
    let n = encode_message(&r, 7, [0; 4], 99, &mut buf).expect("encode");
    let o = SwInterfaceSetFlagsReply::RETVAL_OFFSET.expect("has retval");
    assert_eq!((o, n), (6, 10));
    assert_eq!(i32::from_be_bytes(buf[o..o + 4].try_into().unwrap()), -2);
}
