//! Helpers called by the code the derives generate. Not a stable API.

pub use zerocopy;

use super::{DecodeError, EncodeError, Fixed};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Borrow the fixed prefix `R` at the front of `buf`.
#[inline]
pub fn split_raw<'a, R>(buf: &'a [u8], ty: &'static str) -> Result<(&'a R, &'a [u8]), DecodeError>
where
    R: FromBytes + KnownLayout + Immutable,
{
    R::ref_from_prefix(buf).map_err(|_| DecodeError::Truncated {
        ty,
        need: core::mem::size_of::<R>(),
        have: buf.len(),
    })
}

/// Mutably borrow the fixed prefix `R` at the front of `buf`.
#[inline]
pub fn split_raw_mut<'a, R>(
    buf: &'a mut [u8],
    ty: &'static str,
) -> Result<(&'a mut R, &'a mut [u8]), EncodeError>
where
    R: FromBytes + IntoBytes + KnownLayout,
{
    let have = buf.len();
    R::mut_from_prefix(buf).map_err(|_| EncodeError::BufferTooSmall {
        ty,
        need: core::mem::size_of::<R>(),
        have,
    })
}

/// Cumulative ends of the fixed slots of a layout (`ends[i]` = where slot `i` ends), computed
/// at compile time from the slots' sizes.
pub const fn ends<const N: usize>(sizes: [usize; N]) -> [usize; N] {
    let mut out = [0usize; N];
    let mut acc = 0usize;
    let mut i = 0;
    while i < N {
        acc += sizes[i];
        out[i] = acc;
        i += 1;
    }
    out
}

/// The wire layout of a field of type `T` at byte `at` of a fixed part. `at + T::SIZE` is
/// within `raw` by construction (both come from the same constant layout).
#[inline(always)]
pub fn field<T: Fixed>(raw: &[u8], at: usize) -> &T::Raw {
    match T::Raw::ref_from_bytes(&raw[at..at + T::SIZE]) {
        Ok(r) => r,
        // `T::Raw` is unaligned and exactly `T::SIZE` bytes: the cast cannot fail.
        Err(_) => unreachable!("layout of {} at {at}", T::WIRE_NAME),
    }
}

/// [`field`], mutably.
#[inline(always)]
pub fn field_mut<T: Fixed>(raw: &mut [u8], at: usize) -> &mut T::Raw {
    match T::Raw::mut_from_bytes(&mut raw[at..at + T::SIZE]) {
        Ok(r) => r,
        Err(_) => unreachable!("layout of {} at {at}", T::WIRE_NAME),
    }
}

/// The bytes of a fixed string up to the first NUL.
#[inline]
pub fn fixed_str_bytes(raw: &[u8]) -> &[u8] {
    match raw.iter().position(|&b| b == 0) {
        Some(n) => &raw[..n],
        None => raw,
    }
}

/// A fixed string as `&str` (cut at the first NUL; invalid UTF-8 is an error).
#[inline]
pub fn fixed_str_view<'a>(
    raw: &'a [u8],
    ty: &'static str,
    field: &'static str,
) -> Result<&'a str, DecodeError> {
    utf8(fixed_str_bytes(raw), ty, field)
}

/// A fixed string as an owned `String`.
#[inline]
pub fn fixed_str_decode(
    raw: &[u8],
    ty: &'static str,
    field: &'static str,
) -> Result<String, DecodeError> {
    fixed_str_view(raw, ty, field).map(str::to_owned)
}

/// Write `s` NUL-padded into `raw`; refuses more than `raw.len() - 1` bytes (VPP needs the NUL).
#[inline]
pub fn fixed_str_encode(
    s: &str,
    raw: &mut [u8],
    ty: &'static str,
    field: &'static str,
    limit: Option<usize>,
) -> Result<(), EncodeError> {
    check_limit(s.len(), limit, ty, field)?;
    if s.len() >= raw.len() {
        return Err(EncodeError::StringTooLong {
            ty,
            field,
            len: s.len(),
            size: raw.len(),
        });
    }
    raw[..s.len()].copy_from_slice(s.as_bytes());
    raw[s.len()..].fill(0);
    Ok(())
}

#[inline]
fn utf8<'a>(b: &'a [u8], ty: &'static str, field: &'static str) -> Result<&'a str, DecodeError> {
    core::str::from_utf8(b).map_err(|e| DecodeError::InvalidUtf8 {
        ty,
        field,
        valid_up_to: e.valid_up_to(),
    })
}

/// Enforce a `limit=` (strings: bytes; VLAs: elements).
#[inline]
pub fn check_limit(
    len: usize,
    limit: Option<usize>,
    ty: &'static str,
    field: &'static str,
) -> Result<(), EncodeError> {
    match limit {
        Some(limit) if len > limit => Err(EncodeError::LimitExceeded {
            ty,
            field,
            len,
            limit,
        }),
        _ => Ok(()),
    }
}

/// Encoded size of a variable string.
#[inline]
pub const fn var_str_len(s: &str) -> usize {
    4 + s.len()
}

/// Write a variable string (`u32` BE length + bytes, no NUL).
#[inline]
pub fn var_str_encode(
    s: &str,
    buf: &mut [u8],
    ty: &'static str,
    field: &'static str,
    limit: Option<usize>,
) -> Result<usize, EncodeError> {
    check_limit(s.len(), limit, ty, field)?;
    let len = u32::try_from(s.len()).map_err(|_| EncodeError::CountOverflow {
        ty,
        field,
        len: s.len(),
        max: u64::from(u32::MAX),
    })?;
    let need = 4 + s.len();
    let Some(out) = buf.get_mut(..need) else {
        return Err(EncodeError::BufferTooSmall {
            ty,
            need,
            have: buf.len(),
        });
    };
    out[..4].copy_from_slice(&len.to_be_bytes());
    out[4..].copy_from_slice(s.as_bytes());
    Ok(need)
}

/// Borrow a variable string's bytes; returns them and the bytes consumed (4 + length).
#[inline]
pub fn var_str_split<'a>(
    buf: &'a [u8],
    ty: &'static str,
    field: &'static str,
) -> Result<(&'a [u8], usize), DecodeError> {
    let Some((len, rest)) = buf.split_first_chunk::<4>() else {
        return Err(DecodeError::Truncated {
            ty,
            need: 4,
            have: buf.len(),
        });
    };
    let len = u32::from_be_bytes(*len);
    match rest.get(..len as usize) {
        Some(b) => Ok((b, 4 + b.len())),
        None => Err(DecodeError::LengthBeyondFrame {
            ty,
            field,
            count: u64::from(len),
            need: u64::from(len),
            have: rest.len(),
        }),
    }
}

/// A variable string as `&str`.
#[inline]
pub fn var_str_view<'a>(
    bytes: &'a [u8],
    ty: &'static str,
    field: &'static str,
) -> Result<&'a str, DecodeError> {
    utf8(bytes, ty, field)
}

/// Decode a variable string into an owned `String`.
#[inline]
pub fn var_str_decode(
    buf: &[u8],
    ty: &'static str,
    field: &'static str,
) -> Result<(String, usize), DecodeError> {
    let (b, n) = var_str_split(buf, ty, field)?;
    Ok((utf8(b, ty, field)?.to_owned(), n))
}

/// Integer types that can hold a VLA element count.
pub trait CountField: Fixed + Copy {
    /// The count for `len` elements, `None` if it does not fit.
    fn from_len(len: usize) -> Option<Self>;
    /// The element count this value announces (`Err` holds a negative value).
    fn to_len(self) -> Result<u64, i64>;
    /// Largest count the type holds.
    const MAX_LEN: u64;
}

macro_rules! count_field {
    ($($t:ty),*) => {$(
        impl CountField for $t {
            #[inline]
            fn from_len(len: usize) -> Option<Self> {
                <$t>::try_from(len).ok()
            }
            #[inline]
            #[allow(unused_comparisons, clippy::cast_sign_loss, clippy::cast_lossless)]
            fn to_len(self) -> Result<u64, i64> {
                if self < 0 { Err(self as i64) } else { Ok(self as u64) }
            }
            #[allow(clippy::cast_sign_loss, clippy::cast_lossless)]
            const MAX_LEN: u64 = <$t>::MAX as u64;
        }
    )*};
}
count_field!(u8, u16, u32, u64, i8, i16, i32, i64);

/// The count field value for a collection of `len` elements.
#[inline]
pub fn count_for<C: CountField>(
    len: usize,
    ty: &'static str,
    field: &'static str,
) -> Result<C, EncodeError> {
    C::from_len(len).ok_or(EncodeError::CountOverflow {
        ty,
        field,
        len,
        max: C::MAX_LEN,
    })
}

/// The element count announced by a count field's wire bytes.
#[inline]
pub fn count_from_raw<C: CountField>(
    raw: &C::Raw,
    ty: &'static str,
    field: &'static str,
) -> Result<u64, DecodeError> {
    let c = C::from_raw(raw)?;
    c.to_len()
        .map_err(|count| DecodeError::NegativeCount { ty, field, count })
}

/// Encode VLA elements back to back; returns bytes written.
#[inline]
pub fn vla_encode<T: Fixed>(
    items: &[T],
    buf: &mut [u8],
    ty: &'static str,
) -> Result<usize, EncodeError> {
    let have = buf.len();
    let (raws, _) = <[T::Raw]>::mut_from_prefix_with_elems(buf, items.len()).map_err(|_| {
        EncodeError::BufferTooSmall {
            ty,
            need: items.len().saturating_mul(T::SIZE),
            have,
        }
    })?;
    for (v, r) in items.iter().zip(raws.iter_mut()) {
        v.to_raw(r)?;
    }
    Ok(items.len() * T::SIZE)
}

/// Borrow `count` VLA elements from the front of `buf` (checked against the frame first).
#[inline]
pub fn vla_split<'a, T: Fixed>(
    buf: &'a [u8],
    count: u64,
    ty: &'static str,
    field: &'static str,
) -> Result<(&'a [T::Raw], usize), DecodeError> {
    if T::SIZE == 0 && count > 0 {
        return Err(DecodeError::ZeroSizedElement { ty, field });
    }
    let need = count.saturating_mul(T::SIZE as u64);
    let beyond = || DecodeError::LengthBeyondFrame {
        ty,
        field,
        count,
        need,
        have: buf.len(),
    };
    if need > buf.len() as u64 {
        return Err(beyond());
    }
    let n = usize::try_from(count).map_err(|_| beyond())?;
    let (raws, _) = <[T::Raw]>::ref_from_prefix_with_elems(buf, n).map_err(|_| beyond())?;
    Ok((raws, n * T::SIZE))
}

/// Decode `count` VLA elements into a `Vec` (allocated only after the length check).
#[inline]
pub fn vla_decode<T: Fixed>(
    buf: &[u8],
    count: u64,
    ty: &'static str,
    field: &'static str,
) -> Result<(Vec<T>, usize), DecodeError> {
    let (raws, n) = vla_split::<T>(buf, count, ty, field)?;
    let v = raws
        .iter()
        .map(T::from_raw)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((v, n))
}

/// `buf[at..]`, or an empty slice when `at` is past the end (encode paths check lengths anyway).
#[inline]
pub fn tail_mut(buf: &mut [u8], at: usize) -> &mut [u8] {
    let at = at.min(buf.len());
    &mut buf[at..]
}

/// `buf[at..]` for decoding.
#[inline]
pub fn tail(buf: &[u8], at: usize) -> &[u8] {
    let at = at.min(buf.len());
    &buf[at..]
}

/// Constant maximum of a list of sizes (union size).
pub const fn const_max(sizes: &[usize]) -> usize {
    let mut m = 0;
    let mut i = 0;
    while i < sizes.len() {
        if sizes[i] > m {
            m = sizes[i];
        }
        i += 1;
    }
    m
}

/// Read a union arm from the union's bytes (its size is checked at compile time).
#[inline]
pub fn union_arm_raw<'a, R>(bytes: &'a [u8], ty: &'static str) -> Result<&'a R, DecodeError>
where
    R: FromBytes + KnownLayout + Immutable,
{
    split_raw::<R>(bytes, ty).map(|(r, _)| r)
}

/// Write a union arm at offset 0 of the union's bytes, zero-filling the rest.
#[inline]
pub fn union_arm_write<T: Fixed>(
    v: &T,
    bytes: &mut [u8],
    ty: &'static str,
) -> Result<(), EncodeError> {
    bytes.fill(0);
    let (raw, _) = split_raw_mut::<T::Raw>(bytes, ty)?;
    v.to_raw(raw)
}

/// Format flag bits as `A|B|0x8` given the known (name, bit) pairs.
pub fn fmt_flags(
    f: &mut core::fmt::Formatter<'_>,
    bits: u64,
    known: &[(&str, u64)],
) -> core::fmt::Result {
    if bits == 0 {
        if let Some((name, _)) = known.iter().find(|(_, v)| *v == 0) {
            return f.write_str(name);
        }
        return f.write_str("0");
    }
    let mut rest = bits;
    let mut first = true;
    for (name, v) in known {
        if *v != 0 && rest & v == *v {
            if !first {
                f.write_str("|")?;
            }
            f.write_str(name)?;
            first = false;
            rest &= !v;
        }
    }
    if rest != 0 {
        if !first {
            f.write_str("|")?;
        }
        write!(f, "{rest:#x}")?;
    }
    Ok(())
}
