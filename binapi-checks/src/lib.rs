//! Every message of every release the generator is proven on, behind one type-erased table:
//! the committed `vppapi-binapi` crate with all its releases (`all-releases`) and its
//! `registry` feature.

use vppapi_codec::{DecodeError, EncodeError, Header, MessageKind, SmallRng, Value};

/// A decoded message: header, body value, bytes used.
pub type Decoded = (vppapi_codec::MessageHeader, Value, usize);

type DecodeFn = Box<dyn Fn(&[u8]) -> Result<Decoded, DecodeError> + Send + Sync>;
type ReencodeFn = Box<dyn Fn(&[u8]) -> Result<(Vec<u8>, usize), String> + Send + Sync>;
type RandomFn = Box<
    dyn Fn(&mut SmallRng, u16, [u8; 4], u32) -> Result<(Value, Vec<u8>), EncodeError> + Send + Sync,
>;

/// One message of one release (the registries of the releases are distinct types).
pub struct Entry {
    pub name: &'static str,
    pub name_crc: &'static str,
    pub crc: u32,
    pub kind: MessageKind,
    pub header: Header,
    pub fixed_size: usize,
    pub decode: DecodeFn,
    pub view: DecodeFn,
    pub reencode: ReencodeFn,
    pub random: RandomFn,
}

/// The messages of one release.
pub struct Release {
    /// `24.10`, `25.06`, `26.06`.
    pub name: &'static str,
    pub entries: Vec<Entry>,
}

macro_rules! release {
    ($name:expr, $($reg:ident)::+) => {
        Release {
            name: $name,
            entries: $($reg)::+::messages()
                .map(|e| Entry {
                    name: e.name,
                    name_crc: e.name_crc,
                    crc: e.crc,
                    kind: e.kind,
                    header: e.header,
                    fixed_size: e.fixed_size,
                    decode: Box::new(move |b| e.decode(b)),
                    view: Box::new(move |b| e.view(b)),
                    reencode: Box::new(move |b| e.reencode(b)),
                    random: Box::new(move |r, id, ci, ctx| e.random(r, id, ci, ctx)),
                })
                .collect(),
        }
    };
}

/// Every release of the bindings.
pub fn releases() -> Vec<Release> {
    vec![
        release!("24.10", vppapi_binapi::v24_10::registry),
        release!("25.06", vppapi_binapi::v25_06::registry),
        release!("26.06", vppapi_binapi::registry),
    ]
}
