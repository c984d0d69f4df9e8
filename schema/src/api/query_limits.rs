//! What one GraphQL document may ask for before anything else reads it: aliases and fields counted
//! over the selection as it would run (a fragment counts every time it is spread), fragment cycles,
//! and nesting through fragments. async-graphql's own checks and validation expand fragment spreads
//! without memory, so a small document whose fragments spread each other many times would keep them
//! busy for minutes; this walk remembers each fragment's cost and stops at the first limit passed.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// The caps one document must stay within (the server fills them from its settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Aliased fields, counted as the selection expands.
    pub max_aliases: usize,
    /// Fields (`__typename` included), counted as the selection expands.
    pub max_fields: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_aliases: DEFAULT_MAX_ALIASES,
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }
}

/// The app's operations use none; a coordinator's script may compare a few people side by side.
pub const DEFAULT_MAX_ALIASES: usize = 50;
/// The app's largest operation selects a few dozen fields.
pub const DEFAULT_MAX_FIELDS: usize = 500;

/// Levels of selection (fields with a selection, fragment spreads, inline fragments) followed
/// before a document is refused: async-graphql's own recursion limit, so this walk refuses nothing
/// it would accept and never recurses deeper than it.
pub const MAX_NESTING: usize = 32;

/// Which limit a document passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Aliases,
    Fields,
    Nesting,
    /// A fragment spreads itself, directly or through others (never valid GraphQL).
    FragmentCycle,
}

/// What a selection set costs as it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub fields: usize,
    pub aliases: usize,
    /// Levels of selection below the set (0: only leaf fields).
    pub height: usize,
}

impl Cost {
    fn plus(self, other: Cost) -> Cost {
        Cost {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            height: self.height.max(other.height),
        }
    }
}

/// Counts every operation of the document (they are all validated, whichever one runs) and stops
/// at the first limit passed. Each fragment is walked once, however often it is spread.
pub fn check(document: &ExecutableDocument, limits: DocumentLimits) -> Result<Cost, Exceeded> {
    let mut walk = Walk {
        document,
        limits,
        fragments: HashMap::new(),
    };
    let mut total = Cost::default();
    for (_, operation) in document.operations.iter() {
        let cost = walk.selection_set(&operation.node.selection_set.node, 0)?;
        total = total.plus(cost);
        walk.within(total)?;
    }
    Ok(total)
}

/// Whether the document names `__schema` or `__type` anywhere (operations and fragments, without
/// following spreads). `__typename` is not introspection of the API: clients need it.
pub fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
        .collect();
    // A stack rather than recursion: the walk's depth is the document's, whatever it is.
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        return true;
                    }
                    pending.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(inline) => {
                    pending.push(&inline.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    false
}

enum FragmentState {
    /// Being walked: meeting it again means a cycle.
    Walking,
    Walked(Cost),
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    limits: DocumentLimits,
    fragments: HashMap<&'a str, FragmentState>,
}

impl<'a> Walk<'a> {
    fn within(&self, cost: Cost) -> Result<(), Exceeded> {
        if cost.aliases > self.limits.max_aliases {
            return Err(Exceeded::Aliases);
        }
        if cost.fields > self.limits.max_fields {
            return Err(Exceeded::Fields);
        }
        Ok(())
    }

    /// The cost of a selection set `level` levels below its operation.
    fn selection_set(&mut self, set: &'a SelectionSet, level: usize) -> Result<Cost, Exceeded> {
        if level > MAX_NESTING {
            return Err(Exceeded::Nesting);
        }
        let mut total = Cost::default();
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let inner = if field.node.selection_set.node.items.is_empty() {
                        Cost::default()
                    } else {
                        below(self.selection_set(&field.node.selection_set.node, level + 1)?)
                    };
                    Cost {
                        fields: inner.fields.saturating_add(1),
                        aliases: inner
                            .aliases
                            .saturating_add(usize::from(field.node.alias.is_some())),
                        height: inner.height,
                    }
                }
                Selection::InlineFragment(inline) => {
                    below(self.selection_set(&inline.node.selection_set.node, level + 1)?)
                }
                Selection::FragmentSpread(spread) => {
                    below(self.fragment(spread.node.fragment_name.node.as_str(), level + 1)?)
                }
            };
            total = total.plus(cost);
            self.within(total)?;
        }
        Ok(total)
    }

    /// The cost of a named fragment whose selection sits `level` levels below its operation.
    fn fragment(&mut self, name: &'a str, level: usize) -> Result<Cost, Exceeded> {
        match self.fragments.get(name) {
            Some(FragmentState::Walking) => return Err(Exceeded::FragmentCycle),
            Some(FragmentState::Walked(cost)) => {
                // Walked before at another level: its nesting still counts from here.
                if level.saturating_add(cost.height) > MAX_NESTING {
                    return Err(Exceeded::Nesting);
                }
                return Ok(*cost);
            }
            None => {}
        }
        // An unknown fragment costs nothing here; validation refuses it.
        let Some(definition) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        self.fragments.insert(name, FragmentState::Walking);
        let cost = self.selection_set(&definition.node.selection_set.node, level)?;
        self.fragments.insert(name, FragmentState::Walked(cost));
        Ok(cost)
    }
}

/// A nested set's cost as seen from its parent: one level higher.
fn below(cost: Cost) -> Cost {
    Cost {
        height: cost.height.saturating_add(1),
        ..cost
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn cost(query: &str) -> Result<Cost, Exceeded> {
        check(
            &parse_query(query).expect("the test's query parses"),
            DocumentLimits::default(),
        )
    }

    fn aliases(count: usize) -> String {
        let fields: Vec<String> = (0..count).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    }

    #[test]
    fn fields_and_aliases_are_counted_where_they_run() {
        let counted = cost("{ viewer { id displayName organisation { name } } a: __typename }");
        assert_eq!(
            counted,
            Ok(Cost {
                fields: 6,
                aliases: 1,
                height: 2
            })
        );
        // A fragment counts each time it is spread, once per spread.
        let counted =
            cost("{ viewer { ...Name } b: viewer { ...Name } } fragment Name on Person { x: id }");
        assert_eq!(counted.map(|cost| (cost.fields, cost.aliases)), Ok((4, 3)));
    }

    #[test]
    fn aliases_past_the_cap_are_refused_and_at_the_cap_accepted() {
        assert!(cost(&aliases(DEFAULT_MAX_ALIASES)).is_ok());
        assert_eq!(
            cost(&aliases(DEFAULT_MAX_ALIASES + 1)),
            Err(Exceeded::Aliases)
        );
        assert_eq!(cost(&aliases(500)), Err(Exceeded::Aliases));
    }

    #[test]
    fn fields_past_the_cap_are_refused() {
        let fields = vec!["id"; DEFAULT_MAX_FIELDS].join(" ");
        assert!(cost(&format!("{{ viewer {{ {fields} }} }}")).is_err());
        let fields = vec!["id"; DEFAULT_MAX_FIELDS - 1].join(" ");
        assert!(cost(&format!("{{ viewer {{ {fields} }} }}")).is_ok());
    }

    /// Ten fragments that each spread the next ten times expand to 10^10 fields: refused at once,
    /// each fragment walked once.
    #[test]
    fn fragment_fan_out_is_refused_without_expanding_it() {
        let mut query = String::from("{ ...F0 }");
        for level in 0..10 {
            let spreads = vec![format!("...F{}", level + 1); 10].join(" ");
            query.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
        }
        query.push_str(" fragment F10 on Query { __typename }");
        assert_eq!(cost(&query), Err(Exceeded::Fields));
    }

    #[test]
    fn fragment_cycles_are_refused() {
        assert_eq!(
            cost("{ ...A } fragment A on Query { ...A }"),
            Err(Exceeded::FragmentCycle)
        );
        assert_eq!(
            cost(
                "{ ...A } fragment A on Query { __typename ...B ...B } \
                 fragment B on Query { ...A ...A }"
            ),
            Err(Exceeded::FragmentCycle)
        );
    }

    /// A long chain of fragments is refused at the nesting limit, so the walk's own recursion is
    /// bounded whatever the document holds; a fragment walked shallow first still counts deep.
    #[test]
    fn nesting_through_fragments_is_bounded() {
        let mut query = String::from("{ ...F0 }");
        for level in 0..1000 {
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{} }}",
                level + 1
            ));
        }
        query.push_str(" fragment F1000 on Query { __typename }");
        assert_eq!(cost(&query), Err(Exceeded::Nesting));

        let mut chain = String::from("fragment C0 on Query { __typename }");
        for level in 1..=MAX_NESTING {
            chain.push_str(&format!(
                " fragment C{level} on Query {{ ...C{} }}",
                level - 1
            ));
        }
        assert!(cost(&format!("{{ ...C{} }} {chain}", MAX_NESTING - 1)).is_ok());
        assert_eq!(
            cost(&format!("{{ ...C0 ...C{MAX_NESTING} }} {chain}")),
            Err(Exceeded::Nesting)
        );
    }

    #[test]
    fn introspection_is_found_anywhere_but_typename_is_not_introspection() {
        let asks = |query: &str| asks_for_introspection(&parse_query(query).expect("parses"));
        assert!(asks("{ __schema { queryType { name } } }"));
        assert!(asks(r#"{ __type(name: "Person") { name } }"#));
        assert!(asks(
            "{ ...F } fragment F on Query { ... on Query { __schema { description } } }"
        ));
        assert!(asks(
            "query A { viewer { id } } query B { __schema { description } }"
        ));
        assert!(!asks("{ __typename viewer { __typename id } }"));
        assert!(!asks("{ ...F } fragment F on Query { viewer { id } }"));
    }

    /// Every operation the app sends stays far under the caps and the depth limit, so the limits
    /// never refuse the app.
    #[test]
    fn the_apps_operations_stay_far_under_the_caps() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mobile-contract/operations");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("mobile-contract/operations") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|ext| ext != "graphql") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("an operation file");
            let counted = check(
                &parse_query(&text).expect("the app's operation parses"),
                DocumentLimits::default(),
            )
            .expect("the app's operation is within the limits");
            assert!(
                counted.fields * 4 <= DEFAULT_MAX_FIELDS,
                "{path:?}: {counted:?}"
            );
            assert!(
                counted.aliases * 4 <= DEFAULT_MAX_ALIASES,
                "{path:?}: {counted:?}"
            );
            // Field depth is at most nesting + 1: half the default depth limit (10).
            assert!(counted.height < 5, "{path:?}: {counted:?}");
            seen += 1;
        }
        assert!(seen >= 10, "found the app's operations");
    }
}
