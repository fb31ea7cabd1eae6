//! One program carrying handlers for several VPP releases (Ligato's multi-version handlers):
//! the bindings of 24.10 and 26.06 side by side, and `HandlerSet` picking the handler whose
//! messages the connected VPP has, by `name_crc`.

use vppapi_codec::Message;
use vppapi_runtime::compat::HandlerSet;
use vppapi_runtime::MessageTable;

/// A message table as a VPP of `release` would send it (ids made up).
fn vpp_of(messages: impl Iterator<Item = &'static vppapi_codec::MessageInfo>) -> MessageTable {
    let names: Vec<&str> = messages.map(|m| m.name_crc).collect();
    MessageTable::new(names.iter().enumerate().map(|(i, n)| (i as u16 + 1, *n)))
}

#[test]
fn handler_set_picks_the_release_the_vpp_speaks() {
    // `cnat_set_snat_policy` changed between 24.10 and 26.06; the lb messages did not.
    use vppapi_binapi::cnat::CnatSetSnatPolicy as New;
    use vppapi_binapi::v24_10::cnat::CnatSetSnatPolicy as Old;
    assert_ne!(Old::NAME_CRC, New::NAME_CRC);
    assert_eq!(
        vppapi_binapi::v24_10::lb::LbAddDelAs::NAME_CRC,
        vppapi_binapi::lb::LbAddDelAs::NAME_CRC
    );
    let set = HandlerSet::new()
        .add("cnat-24.10", &[Old::NAME_CRC], "old")
        .add("cnat-26.06", &[New::NAME_CRC], "new");

    let vpp_2606 = vpp_of(vppapi_binapi::table::messages());
    let sel = set.select(&vpp_2606);
    assert_eq!(
        sel.chosen.map(|(n, h)| (n, *h)),
        Some(("cnat-26.06", "new"))
    );
    assert_eq!(sel.refused.len(), 1);
    assert_eq!(
        sel.refused[0].report.different_crc.len(),
        1,
        "{}",
        sel.refused[0]
    );

    let vpp_2410 = vpp_of(vppapi_binapi::v24_10::table::messages());
    let sel = set.select(&vpp_2410);
    assert_eq!(
        sel.chosen.map(|(n, h)| (n, *h)),
        Some(("cnat-24.10", "old"))
    );
    assert!(sel.refused.is_empty());
}
