//! A failed call: VPP's `VNET_API_ERROR_*` code (the table is `vppapi_codec::api_errno`) and the
//! reply it came in. Unknown numbers are still carried by [`ApiError`]; only the name lookup
//! fails.

use std::fmt;

/// A non-zero `retval` in a reply, with the message it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiError {
    /// The reply's `retval` (negative for VPP errors).
    pub retval: i32,
    /// The reply message's name (e.g. `"lb_add_del_as_reply"`).
    pub message: &'static str,
}

impl ApiError {
    /// VPP's name for the code without the `VNET_API_ERROR_` prefix (e.g. `"VALUE_EXIST"`).
    pub fn name(&self) -> Option<&'static str> {
        error_name(self.retval)
    }
    /// Whether this is `VNET_API_ERROR_EAGAIN` (-165), the cursor-stream "continue" code.
    pub fn is_eagain(&self) -> bool {
        self.retval == EAGAIN
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(
                f,
                "{} returned VNET_API_ERROR_{n} ({})",
                self.message, self.retval
            ),
            None => write!(f, "{} returned unknown error {}", self.message, self.retval),
        }
    }
}

impl std::error::Error for ApiError {}

pub use vppapi_codec::api_errno::{error_code, error_name, EAGAIN, ERRORS};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_descending_and_lookups_work() {
        assert!(ERRORS.windows(2).all(|w| w[0].0 > w[1].0));
        assert_eq!(error_name(-81), Some("VALUE_EXIST"));
        assert_eq!(error_name(-165), Some("EAGAIN"));
        assert_eq!(error_name(-119), Some("BD_ALREADY_EXISTS"));
        assert_eq!(error_name(-171), Some("INVALID_PREFIX_LENGTH"));
        assert_eq!(error_name(-158), None);
        assert_eq!(error_code("VNET_API_ERROR_INVALID_REGISTRATION"), Some(-31));
        let e = ApiError {
            retval: -2,
            message: "sw_interface_set_flags_reply",
        };
        assert_eq!(
            e.to_string(),
            "sw_interface_set_flags_reply returned VNET_API_ERROR_INVALID_SW_IF_INDEX (-2)"
        );
        let u = ApiError {
            retval: -999,
            message: "x_reply",
        };
        assert_eq!(u.to_string(), "x_reply returned unknown error -999");
    }
}
