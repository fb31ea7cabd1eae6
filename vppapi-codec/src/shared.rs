//! Views shared by every message of the same shape: the derives give `{ i32 retval }`
//! messages (544 in VPP 26.06) [`RetvalView`] and empty messages (208) [`EmptyView`] instead
//! of a view type each (`XView<'a>` is then an alias), which keeps large bindings cheap.

use core::fmt;
use core::marker::PhantomData;

use super::{DecodeError, Fixed};

/// The view of a message whose only field is `i32 retval`.
pub struct RetvalView<'a, M> {
    raw: &'a [u8; 4],
    _m: PhantomData<fn() -> M>,
}

/// The view of a message without fields.
pub struct EmptyView<'a, M> {
    raw: &'a [u8; 0],
    _m: PhantomData<fn() -> M>,
}

macro_rules! shared_view {
    ($view:ident, $n:literal) => {
        impl<M> Clone for $view<'_, M> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<M> Copy for $view<'_, M> {}

        impl<'a, M: Fixed<Raw = [u8; $n]>> $view<'a, M> {
            /// The view of these bytes.
            #[inline]
            pub fn new(raw: &'a [u8; $n]) -> Self {
                Self {
                    raw,
                    _m: PhantomData,
                }
            }
            /// The wire bytes.
            #[inline]
            pub fn as_raw(&self) -> &'a [u8; $n] {
                self.raw
            }
            /// Decode into the owned message.
            #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
            #[inline]
            pub fn to_owned(&self) -> Result<M, DecodeError> {
                M::from_raw(self.raw)
            }
        }
    };
}
shared_view!(RetvalView, 4);
shared_view!(EmptyView, 0);

impl<M: Fixed<Raw = [u8; 4]>> RetvalView<'_, M> {
    /// `retval`
    #[inline]
    pub fn retval(&self) -> i32 {
        i32::from_be_bytes(*self.raw)
    }
}

impl<M: Fixed<Raw = [u8; 4]>> fmt::Debug for RetvalView<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(M::WIRE_NAME)
            .field("retval", &self.retval())
            .finish()
    }
}

impl<M: Fixed<Raw = [u8; 0]>> fmt::Debug for EmptyView<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(M::WIRE_NAME)
    }
}
