//! Descriptors: one per kind of value (Ligato's `KVDescriptor`, cut down).

use std::fmt;

/// An operation error returned by a descriptor.
pub type OpError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed future (no `Send` bound: the context is usually a single-threaded connection).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// A dependency of a value: a key that must exist, or any one of several keys.
///
/// An `AnyOf` with an empty list can never be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Dependency {
    /// This key must exist.
    Key(String),
    /// At least one of these keys must exist.
    AnyOf(Vec<String>),
}

impl fmt::Display for Dependency {
    /// `key`, or `any of (a, b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dependency::Key(k) => f.write_str(k),
            Dependency::AnyOf(ks) => write!(f, "any of ({})", ks.join(", ")),
        }
    }
}

/// How an existing value changes into a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ChangeKind {
    /// Change the value in place (`update`).
    Update,
    /// An immutable field changed: delete, then create (dependents are deleted and re-created).
    Recreate,
}

/// One retrieved (actual) value; `owned` = created by this tool (e.g. carries our tag).
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved<V> {
    /// The value's key.
    pub key: String,
    /// The value as read back.
    pub value: V,
    /// Whether this tool created (and so may delete) the value.
    pub owned: bool,
}

/// One kind of value (keys selected by `handles`). `C` is the caller's context (e.g. a VPP
/// connection); create/update/delete/retrieve are async through boxed futures (no Send bound
/// needed).
///
/// The engine picks, for each key, the first registered descriptor whose `handles` returns true.
pub trait Descriptor<V, C>: Send + Sync {
    /// Short name, shown in plans and logs (e.g. `"bd"`).
    fn name(&self) -> &'static str;

    /// Whether this descriptor handles `key`.
    fn handles(&self, key: &str) -> bool;

    /// What must exist before this value can be created (all of them: AND).
    /// A derived value also depends on its parent implicitly; no need to list it.
    fn dependencies(&self, _key: &str, _value: &V) -> Vec<Dependency> {
        Vec::new()
    }

    /// Values derived from this one, each its own key in the graph (e.g. each BD member).
    fn derived(&self, _key: &str, _value: &V) -> Vec<(String, V)> {
        Vec::new()
    }

    /// Whether the actual value already equals the desired one (default: PartialEq).
    /// A parent whose derived values carry part of its content (e.g. BD members) should ignore
    /// that part here: the derived keys are compared on their own.
    fn equivalent(&self, _key: &str, desired: &V, actual: &V) -> bool
    where
        V: PartialEq,
    {
        desired == actual
    }

    /// Update in place, or recreate (an immutable field changed).
    fn change_kind(&self, _key: &str, _old: &V, _new: &V) -> ChangeKind {
        ChangeKind::Update
    }

    /// Human text for a change, used as the reason of an update or recreate
    /// (e.g. `"field mtu differs"`). Default: `"value differs"`.
    fn describe_change(&self, _key: &str, _old: &V, _new: &V) -> String {
        "value differs".to_string()
    }

    /// Creates the value.
    fn create<'a>(
        &'a self,
        ctx: &'a mut C,
        key: &'a str,
        value: &'a V,
    ) -> BoxFuture<'a, Result<(), OpError>>;

    /// Changes `old` into `new` in place. Default: [`Descriptor::create`] with the new value,
    /// right for the many VPP messages that set a value whatever it was (a MAC, a flag, an
    /// L2FIB entry); override it when an update needs other messages than a create.
    fn update<'a>(
        &'a self,
        ctx: &'a mut C,
        key: &'a str,
        _old: &'a V,
        new: &'a V,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        self.create(ctx, key, new)
    }

    /// Deletes the value.
    fn delete<'a>(
        &'a self,
        ctx: &'a mut C,
        key: &'a str,
        value: &'a V,
    ) -> BoxFuture<'a, Result<(), OpError>>;

    /// Actual values of this kind (NOT including derived values: the engine derives them).
    /// Default: none, for kinds that only exist as values derived from others (a BD member, an
    /// interface's address); a kind read from the system must override it.
    fn retrieve<'a>(
        &'a self,
        _ctx: &'a mut C,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<V>>, OpError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
