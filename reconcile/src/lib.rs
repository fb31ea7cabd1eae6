//! Placeholder: the reconcile engine is being written.
