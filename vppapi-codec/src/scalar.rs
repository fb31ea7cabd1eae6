//! [`Fixed`] for the VPP base types and fixed arrays.

use super::{DecodeError, EncodeError, Fixed, LiteralDefault, Reflect, Value, WireDefault};
use zerocopy::byteorder::{BigEndian, LittleEndian, F64, I16, I32, I64, U16, U32, U64};

macro_rules! int_fixed {
    ($($t:ty => $raw:ty, $wire:literal;)*) => {$(
        impl Fixed for $t {
            type Raw = $raw;
            type View<'a> = $t;
            const WIRE_NAME: &'static str = $wire;
            #[inline]
            fn from_raw(raw: &Self::Raw) -> Result<Self, DecodeError> {
                Ok(<$t>::from(*raw))
            }
            #[inline]
            fn to_raw(&self, raw: &mut Self::Raw) -> Result<(), EncodeError> {
                *raw = <$raw>::from(*self);
                Ok(())
            }
            #[inline]
            fn view_raw(raw: &Self::Raw) -> $t {
                <$t>::from(*raw)
            }
            #[inline]
            fn view_to_owned(view: &$t) -> Result<Self, DecodeError> {
                Ok(*view)
            }
        }
        impl WireDefault for $t {
            fn wire_default() -> Self {
                <$t>::default()
            }
        }
        impl LiteralDefault for $t {
            type Literal = $t;
        }
    )*};
}

int_fixed! {
    u8 => u8, "u8";
    i8 => i8, "i8";
    u16 => U16<BigEndian>, "u16";
    i16 => I16<BigEndian>, "i16";
    u32 => U32<BigEndian>, "u32";
    i32 => I32<BigEndian>, "i32";
    u64 => U64<BigEndian>, "u64";
    i64 => I64<BigEndian>, "i64";
    // f64 travels in VPP's host order, little-endian on every platform VPP runs on (wire doc 2.1).
    f64 => F64<LittleEndian>, "f64";
}

macro_rules! int_reflect {
    ($($t:ty),*) => {$(
        impl Reflect for $t {
            fn to_value(&self) -> Value {
                Value::Int(i128::from(*self))
            }
        }
    )*};
}
int_reflect!(i8, u16, i16, u32, i32, u64, i64);

impl Reflect for u8 {
    fn to_value(&self) -> Value {
        Value::Int(i128::from(*self))
    }
    /// `u8` arrays are byte strings (that is how VPP and vpp_papi treat them).
    fn slice_value(items: &[Self]) -> Value {
        Value::Bytes(items.to_vec())
    }
}

impl Reflect for f64 {
    fn to_value(&self) -> Value {
        Value::F64(*self)
    }
}

impl Fixed for bool {
    type Raw = u8;
    type View<'a> = bool;
    const WIRE_NAME: &'static str = "bool";
    /// VPP tests `!= 0`; any non-zero byte is `true` (re-encoded as 1).
    #[inline]
    fn from_raw(raw: &u8) -> Result<Self, DecodeError> {
        Ok(*raw != 0)
    }
    #[inline]
    fn to_raw(&self, raw: &mut u8) -> Result<(), EncodeError> {
        *raw = u8::from(*self);
        Ok(())
    }
    #[inline]
    fn view_raw(raw: &u8) -> bool {
        *raw != 0
    }
    #[inline]
    fn view_to_owned(view: &bool) -> Result<Self, DecodeError> {
        Ok(*view)
    }
}

impl WireDefault for bool {
    fn wire_default() -> Self {
        false
    }
}

impl LiteralDefault for bool {
    type Literal = bool;
}

impl Reflect for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

/// Borrowed view of a fixed array `T x[N]`.
pub struct ArrayView<'a, T: Fixed, const N: usize> {
    raw: &'a [T::Raw; N],
}

impl<T: Fixed, const N: usize> Clone for ArrayView<'_, T, N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Fixed, const N: usize> Copy for ArrayView<'_, T, N> {}

impl<'a, T: Fixed + 'a, const N: usize> ArrayView<'a, T, N> {
    /// Number of elements (always `N`).
    pub const fn len(&self) -> usize {
        N
    }
    /// True when `N == 0`.
    pub const fn is_empty(&self) -> bool {
        N == 0
    }
    /// Element `i`, `None` past the end.
    pub fn get(&self, i: usize) -> Option<T::View<'a>> {
        self.raw.get(i).map(T::view_raw)
    }
    /// Iterate over the elements without copying the array.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T::View<'a>> + 'a {
        self.raw.iter().map(T::view_raw)
    }
    /// The wire bytes of the array.
    pub fn raw(&self) -> &'a [T::Raw; N] {
        self.raw
    }
}

impl<T: Fixed, const N: usize> core::fmt::Debug for ArrayView<'_, T, N>
where
    for<'b> T::View<'b>: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Fixed + WireDefault, const N: usize> Fixed for [T; N] {
    type Raw = [T::Raw; N];
    type View<'a>
        = ArrayView<'a, T, N>
    where
        T: 'a;
    const WIRE_NAME: &'static str = T::WIRE_NAME;
    fn from_raw(raw: &Self::Raw) -> Result<Self, DecodeError> {
        let mut err = None;
        let out = core::array::from_fn(|i| match T::from_raw(&raw[i]) {
            Ok(v) => v,
            Err(e) => {
                err.get_or_insert(e);
                // Placeholder only: the error below discards the whole array.
                T::wire_default()
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
    fn to_raw(&self, raw: &mut Self::Raw) -> Result<(), EncodeError> {
        for (v, r) in self.iter().zip(raw.iter_mut()) {
            v.to_raw(r)?;
        }
        Ok(())
    }
    fn view_raw(raw: &Self::Raw) -> ArrayView<'_, T, N> {
        ArrayView { raw }
    }
    fn view_to_owned(view: &ArrayView<'_, T, N>) -> Result<Self, DecodeError> {
        Self::from_raw(view.raw)
    }
}

impl<T: WireDefault, const N: usize> WireDefault for [T; N] {
    fn wire_default() -> Self {
        core::array::from_fn(|_| T::wire_default())
    }
}

impl<T: Reflect, const N: usize> Reflect for [T; N] {
    fn to_value(&self) -> Value {
        T::slice_value(self)
    }
}

impl<T: Reflect> Reflect for Vec<T> {
    fn to_value(&self) -> Value {
        T::slice_value(self)
    }
}

impl Reflect for String {
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
}

impl WireDefault for String {
    fn wire_default() -> Self {
        String::new()
    }
}

impl<T> WireDefault for Vec<T> {
    fn wire_default() -> Self {
        Vec::new()
    }
}
