use vpp_sim::catalog::{Answer, Catalog, Kind};
use vpp_sim::table::MessageTable;
use vppapi_codec::MessageKind;

#[test]
fn old_equals_new() {
    let cat = Catalog::vpp_26_06();
    let t = MessageTable::vpp_26_06();
    assert_eq!(cat.len(), t.len());
    for d in cat.iter() {
        let i = t.info(d.id).unwrap();
        assert_eq!((d.name, d.crc, d.module, d.name_crc.as_str()), (i.name, i.crc, i.module, i.name_crc), "{}", d.name);
        let k = match i.kind { MessageKind::Request => Kind::Request, MessageKind::Reply => Kind::Reply, MessageKind::Details => Kind::Details, MessageKind::Event => Kind::Event, MessageKind::Other => Kind::Other };
        assert_eq!(d.kind, k, "{}", d.name);
        assert_eq!(d.fixed_size, i.fixed_size, "{} size", d.name);
        assert_eq!(d.context_off, i.header.context_offset(), "{} ctx", d.name);
        assert_eq!(d.client_index_off, i.header.client_index_offset(), "{} ci", d.name);
        if d.retval_off != i.retval_offset { eprintln!("RV {} {:?} {:?} kind {:?}", d.name, d.retval_off, i.retval_offset, d.kind); }
        let nc = |n: &str| cat.def(n).map(|x| x.name_crc.clone());
        let (r, det) = match &d.answer {
            Answer::Nothing => (None, None),
            Answer::Reply(r) => (nc(r), None),
            Answer::Dump(x) => (None, nc(x)),
            Answer::Cursor { reply, details } => (nc(reply), nc(details)),
        };
        if d.kind == Kind::Request {
            assert_eq!(r.as_deref(), i.reply, "{} reply", d.name);
            assert_eq!(det.as_deref(), i.details, "{} details", d.name);
        }
    }
}

#[test]
fn replies_without_retval() {
    let t = MessageTable::vpp_26_06();
    for (_, i) in t.iter() {
        if let Some(r) = i.reply {
            let ri = t.info(t.id_by_name_crc(r).unwrap()).unwrap();
            if ri.retval_offset.is_none() {
                eprintln!("NORV {} -> {} size {}", i.name, ri.name, ri.fixed_size);
            }
        }
    }
}
