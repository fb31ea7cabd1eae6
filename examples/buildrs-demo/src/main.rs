//! Encodes a `sw_interface_dump` and decodes a `sw_interface_details` with bindings generated
//! by `build.rs`.

mod vpp {
    include!(concat!(env!("OUT_DIR"), "/vpp_api.rs"));
}

use vpp::interface::{SwInterfaceDetails, SwInterfaceDump};
use vppapi_runtime::codec::{decode_message, encode_message, message_len, Dump, Message};

/// The bytes of a `sw_interface_dump` for every interface (msg id and context made up).
fn dump_bytes() -> Vec<u8> {
    let dump = SwInterfaceDump::default(); // sw_if_index = ~0 (default=), no name filter
    let mut buf = vec![0u8; message_len(&dump)];
    encode_message(&dump, 0x0123, [0x80, 0, 0, 1], 2, &mut buf).expect("encode");
    buf
}

fn main() {
    let bytes = dump_bytes();
    println!(
        "{} -> {} bytes: {:02x?}",
        SwInterfaceDump::NAME_CRC,
        bytes.len(),
        bytes
    );
    println!(
        "its dump streams {}",
        <<SwInterfaceDump as Dump>::Details as Message>::NAME
    );
    let _ = decode_message::<SwInterfaceDetails>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_is_the_documented_19_bytes() {
        // vpp-wire.md 2.7
        let want = [
            0x01, 0x23, 0x80, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0,
        ];
        assert_eq!(dump_bytes(), want);
        let (hdr, back, n) = decode_message::<SwInterfaceDump>(&want).expect("decode");
        assert_eq!((hdr.context, n), (Some(2), 19));
        assert_eq!(back, SwInterfaceDump::default());
    }

    #[test]
    fn table_knows_the_generated_messages() {
        let e = vpp::table::by_name("lb_add_del_as").expect("lb is generated");
        assert_eq!(e.module, "lb");
        assert!(e
            .reply
            .is_some_and(|r| r.starts_with("lb_add_del_as_reply_")));
        assert!(vpp::table::by_name("sw_interface_details").is_some());
        // l2 was not asked for and nothing needs it.
        assert!(vpp::table::by_name("bridge_domain_dump").is_none());
    }

    #[test]
    fn layout_facts_are_constants() {
        use vpp::interface::SwInterfaceSetFlagsReply;
        let t = vpp::table::by_name("sw_interface_set_flags_reply").expect("generated");
        assert_eq!(SwInterfaceSetFlagsReply::RETVAL_OFFSET, Some(6));
        assert_eq!(t.retval_offset, SwInterfaceSetFlagsReply::RETVAL_OFFSET);
    }
}
