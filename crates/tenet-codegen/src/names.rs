//! Identifiers for generated code: case conversions and collision-free allocation.

use std::collections::{BTreeMap, HashSet};

use tenet_catalog::model::{Catalog, QualifiedName, TypeKind};

/// `UpperCamelCase` of the ASCII words of a name: `order_items` -> `OrderItems`,
/// `not shipped` -> `NotShipped`.
pub fn pascal(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `snake_case` of a name: `userId` -> `user_id`, `Order Date` -> `order_date`.
pub fn snake(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// The ASCII alphanumeric words of a name, also split where a lower-case letter or digit is
/// followed by an upper-case one (`userId` -> `user`, `Id`).
fn words(s: &str) -> Vec<String> {
    let mut words = vec![String::new()];
    let mut previous = ' ';
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(String::new());
        } else {
            if c.is_ascii_uppercase()
                && (previous.is_ascii_lowercase() || previous.is_ascii_digit())
            {
                words.push(String::new());
            }
            words.last_mut().unwrap().push(c);
        }
        previous = c;
    }
    words.retain(|w| !w.is_empty());
    words
}

/// `PascalCase` of a snake_case name, prefixed with its schema outside `public` (so
/// `billing.orders` is `BillingOrders`), and never starting with a digit.
pub fn type_name(schema: &str, name: &str) -> String {
    let name = if schema == "public" {
        pascal(name)
    } else {
        pascal(schema) + &pascal(name)
    };
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("T{name}")
    } else {
        name
    }
}

/// Hands out names no one has taken: the first asker gets the name, later ones a numbered
/// variant (`Orders`, `Orders2`; `user_id`, `user_id_2`).
pub struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    /// Names that are never handed out (keywords, names the generated code itself uses).
    pub fn new(reserved: &[&str]) -> Unique {
        Unique {
            taken: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn take(&mut self, name: String) -> String {
        let separator = if name.ends_with(|c: char| c.is_ascii_digit()) || name.contains('_') {
            "_"
        } else {
            ""
        };
        let mut candidate = name.clone();
        let mut n = 1;
        while self.taken.contains(&candidate) {
            n += 1;
            candidate = format!("{name}{separator}{n}");
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// Type names for the enums and tables of a catalog, shared by Rust and Python so the same
/// table has the same name in both. Enums come first, then tables, each in catalog order.
pub struct ClassNames {
    pub enums: BTreeMap<QualifiedName, String>,
    pub tables: BTreeMap<QualifiedName, String>,
}

/// Names the generated Rust or Python uses at module level, or that cannot name a type.
const RESERVED_CLASS_NAMES: &[&str] = &[
    // Rust: the prelude types the generated code names, and `Self`.
    "String", "Vec", "Option", "Result", "Box", "Some", "None", "Ok", "Err", "Self",
    // Python: constants that are keywords, and the generated helper class.
    "True", "False", "PgType", "ReadAs",
];

impl ClassNames {
    /// Names for Rust and Python.
    pub fn new(catalog: &Catalog) -> ClassNames {
        ClassNames::with_reserved(catalog, RESERVED_CLASS_NAMES)
    }

    /// Names that avoid `reserved` and each other.
    pub fn with_reserved(catalog: &Catalog, reserved: &[&str]) -> ClassNames {
        let mut unique = Unique::new(reserved);
        let mut name = |schema: &str, name: &str| {
            (
                QualifiedName::new(schema, name),
                unique.take(type_name(schema, name)),
            )
        };
        let enums = catalog
            .types
            .iter()
            .filter(|t| matches!(t.kind, TypeKind::Enum { .. }))
            .map(|t| name(&t.schema, &t.name))
            .collect();
        let tables = catalog
            .tables
            .iter()
            .map(|t| name(&t.schema, &t.name))
            .collect();
        ClassNames { enums, tables }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(pascal("not shipped"), "NotShipped");
        assert_eq!(pascal("order_items"), "OrderItems");
        assert_eq!(snake("userId"), "user_id");
        assert_eq!(snake("Order Date"), "order_date");
        assert_eq!(snake("HTTP"), "http");
        assert_eq!(type_name("billing", "orders"), "BillingOrders");
        assert_eq!(type_name("public", "2fa"), "T2fa");
    }

    #[test]
    fn unique_numbers_later_takers() {
        let mut unique = Unique::new(&["String"]);
        assert_eq!(unique.take("String".into()), "String2");
        assert_eq!(unique.take("Orders".into()), "Orders");
        assert_eq!(unique.take("Orders".into()), "Orders2");
        assert_eq!(unique.take("user_id".into()), "user_id");
        assert_eq!(unique.take("user_id".into()), "user_id_2");
    }
}
