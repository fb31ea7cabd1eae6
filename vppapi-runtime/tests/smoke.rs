mod common;
use common::msgs::*;
use vppapi_runtime::codec::*;

#[test]
fn compiles() {
    let m = IpRouteAddDel::default();
    assert!(m.is_add);
    let v = m.encode_to_vec().unwrap();
    assert_eq!(IpRouteAddDel::decode(&v).unwrap().0, m);
}
