//! A generic tree of decoded values, for printing, JSON output and differential tests.

/// One value in wire terms: the field names and order are VPP's, counts and union tags are
/// included, `u8` arrays are bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Any integer or enum / flags value.
    Int(i128),
    /// `f64`.
    F64(f64),
    /// `bool`.
    Bool(bool),
    /// A string (fixed or variable).
    Str(String),
    /// A `u8` array or VLA.
    Bytes(Vec<u8>),
    /// An array or VLA of other types.
    List(Vec<Value>),
    /// A typedef or message: fields in wire order; a union: its chosen arm(s).
    Struct(Vec<(&'static str, Value)>),
}

/// Conversion to [`Value`]. Implemented by the derives.
pub trait Reflect {
    /// This value as a tree.
    fn to_value(&self) -> Value;
    /// A slice of this type (`u8` overrides this to give bytes).
    fn slice_value(items: &[Self]) -> Value
    where
        Self: Sized,
    {
        Value::List(items.iter().map(Reflect::to_value).collect())
    }
}
