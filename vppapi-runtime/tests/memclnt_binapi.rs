//! The few messages the runtime defines for itself must be the generated 26.06 ones.

use vppapi_runtime::codec::{Message, MessageKind};
use vppapi_runtime::memclnt as ours;

fn same<A: Message, B: Message>() {
    assert_eq!(A::NAME_CRC, B::NAME_CRC);
    assert_eq!(A::HEADER, B::HEADER, "{}", A::NAME);
    assert_eq!(A::KIND, B::KIND, "{}", A::NAME);
    assert_eq!(A::FIXED_SIZE, B::FIXED_SIZE, "{}", A::NAME);
}

#[test]
fn runtime_memclnt_messages_equal_the_generated_bindings() {
    use vppapi_binapi::{memclnt, vpe};
    same::<ours::SockclntCreate, memclnt::SockclntCreate>();
    same::<ours::SockclntCreateReply, memclnt::SockclntCreateReply>();
    same::<ours::SockclntDelete, memclnt::SockclntDelete>();
    same::<ours::SockclntDeleteReply, memclnt::SockclntDeleteReply>();
    same::<ours::ControlPing, memclnt::ControlPing>();
    same::<ours::ControlPingReply, memclnt::ControlPingReply>();
    same::<ours::ShowVersion, vpe::ShowVersion>();
    same::<ours::ShowVersionReply, vpe::ShowVersionReply>();
    assert_eq!(
        <ours::ControlPingReply as Message>::KIND,
        MessageKind::Reply
    );
}
