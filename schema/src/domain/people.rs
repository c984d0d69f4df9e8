//! The kinds of things people and organisations are: roles, organisation kinds, locales.

use std::fmt;

/// What a person does in the program. Decides what they may see and do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Participant,
    Supporter,
    Coordinator,
}

/// The kind of organisation that runs part of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrganisationKind {
    Hospital,
    WardOffice,
    CommunityGroup,
    Workshop,
}

/// The language texts written by the server are shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    Ja,
    En,
}

/// A stored value that is not one of the enum's names: the database was edited by hand or is newer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.kind, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// Gives an enum a stable storage name, used in the database and the CLI.
macro_rules! stored_names {
    ($ty:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            pub fn parse(value: &str) -> Result<Self, UnknownValue> {
                match value {
                    $($name => Ok($ty::$variant),)+
                    other => Err(UnknownValue { kind: $kind, value: other.to_owned() }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_names;

stored_names!(Role, "role", {
    Participant => "participant",
    Supporter => "supporter",
    Coordinator => "coordinator",
});

stored_names!(OrganisationKind, "organisation kind", {
    Hospital => "hospital",
    WardOffice => "ward_office",
    CommunityGroup => "community_group",
    Workshop => "workshop",
});

stored_names!(Locale, "locale", {
    Ja => "ja",
    En => "en",
});

/// Every person's default time zone: the program runs in Osaka.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(*role));
        }
        for kind in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::parse(kind.as_str()), Ok(*kind));
        }
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.as_str()), Ok(*locale));
        }
    }

    #[test]
    fn unknown_names_are_refused_with_their_kind() {
        let err = Role::parse("admin").unwrap_err();
        assert_eq!(err.kind, "role");
        assert_eq!(err.to_string(), "unknown role \"admin\"");
        assert!(OrganisationKind::parse("Hospital").is_err());
    }
}
