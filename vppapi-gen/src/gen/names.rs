//! Rust identifiers for VPP names: CamelCase types, escaped keywords, one namespace per tree.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span};

/// Rust keywords (2015-2024): fields named like these become raw identifiers (`r#type`).
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers: they get a trailing underscore.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Type names the generated code uses unqualified: a VPP type with one of these names is
/// renamed (suffix `Type`) so it cannot shadow them.
const RESERVED_TYPES: &[&str] = &[
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Default",
    "Some",
    "None",
    "Ok",
    "Err",
    "VppMessage",
    "VppType",
    "VppEnum",
    "VppFlags",
    "VppUnion",
    "VppTagged",
    "Self",
];

/// `sw_interface_details` -> `SwInterfaceDetails`; a leading digit gets an `X` prefix.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() {
        out.push_str("Unnamed");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'X');
    }
    out
}

/// A field, arm or module name as a Rust identifier (snake case kept; keywords escaped).
/// Returns the identifier and whether it differs from the wire name (then `name = ".."` is
/// needed on the field).
pub fn field_ident(name: &str) -> (Ident, bool) {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'f');
        s.insert(1, '_');
    }
    if NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    let changed = s != name;
    if KEYWORDS.contains(&s.as_str()) {
        (Ident::new_raw(&s, Span::call_site()), changed)
    } else {
        (Ident::new(&s, Span::call_site()), changed)
    }
}

/// An enumerator name as a constant identifier.
pub fn const_ident(name: &str) -> Ident {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) || NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    Ident::new(&s, Span::call_site())
}

/// A type identifier.
pub fn type_ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// Assigns every user type and message of a tree one distinct Rust type name.
///
/// Messages keep their CamelCase name; a type whose name collides with a message, a reserved
/// name or another type gets the suffix `Type` (then a number).
#[derive(Debug, Default, Clone)]
pub struct TypeNames {
    types: HashMap<String, String>,
    messages: HashMap<String, String>,
}

impl TypeNames {
    pub fn new<'a>(
        messages: impl IntoIterator<Item = &'a str>,
        types: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut taken: HashSet<String> = HashSet::new();
        let mut out = TypeNames::default();
        let pick = |base: String, suffix: &str, taken: &mut HashSet<String>| {
            let mut cand = base.clone();
            if RESERVED_TYPES.contains(&cand.as_str()) || taken.contains(&cand) {
                cand = format!("{base}{suffix}");
            }
            let mut n = 2;
            while RESERVED_TYPES.contains(&cand.as_str()) || taken.contains(&cand) {
                cand = format!("{base}{suffix}{n}");
                n += 1;
            }
            taken.insert(cand.clone());
            cand
        };
        for m in messages {
            let n = pick(camel(m), "Msg", &mut taken);
            out.messages.insert(m.to_owned(), n);
        }
        for t in types {
            let n = pick(camel(t), "Type", &mut taken);
            out.types.insert(t.to_owned(), n);
        }
        out
    }
    pub fn message(&self, name: &str) -> Option<&str> {
        self.messages.get(name).map(String::as_str)
    }
    pub fn user_type(&self, name: &str) -> Option<&str> {
        self.types.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(camel("sw_interface_details"), "SwInterfaceDetails");
        assert_eq!(camel("6rd_thing"), "X6rdThing");
        assert_eq!(field_ident("type").0.to_string(), "r#type");
        assert_eq!(field_ident("self").0.to_string(), "self_");
        assert_eq!(field_ident("1x").0.to_string(), "f_1x");
        assert!(!field_ident("sw_if_index").1);
        assert_eq!(const_ident("1A").to_string(), "_1A");
    }

    #[test]
    fn collisions() {
        let n = TypeNames::new(["foo_bar", "string"], ["foo_bar", "foo__bar", "vec"]);
        assert_eq!(n.message("foo_bar"), Some("FooBar"));
        assert_eq!(n.message("string"), Some("StringMsg"));
        assert_eq!(n.user_type("foo_bar"), Some("FooBarType"));
        assert_eq!(n.user_type("foo__bar"), Some("FooBarType2"));
        assert_eq!(n.user_type("vec"), Some("VecType"));
    }
}
