//! Borrowed view of a VLA.

use super::Fixed;

/// The elements of a VLA, borrowed from the received bytes (no allocation).
pub struct VlaView<'a, T: Fixed> {
    raw: &'a [T::Raw],
}

impl<T: Fixed> Clone for VlaView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Fixed> Copy for VlaView<'_, T> {}

impl<'a, T: Fixed + 'a> VlaView<'a, T> {
    #[doc(hidden)]
    pub fn new(raw: &'a [T::Raw]) -> Self {
        Self { raw }
    }
    /// Number of elements (the count field's value).
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// Element `i`, `None` past the end.
    pub fn get(&self, i: usize) -> Option<T::View<'a>> {
        self.raw.get(i).map(T::view_raw)
    }
    /// Iterate over the elements.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T::View<'a>> + 'a {
        self.raw.iter().map(T::view_raw)
    }
    /// The elements' wire layouts.
    pub fn raw(&self) -> &'a [T::Raw] {
        self.raw
    }
    /// Decode every element into a `Vec`.
    pub fn to_vec(&self) -> Result<Vec<T>, super::DecodeError> {
        self.raw.iter().map(T::from_raw).collect()
    }
}

impl<T: Fixed> core::fmt::Debug for VlaView<'_, T>
where
    for<'b> T::View<'b>: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
