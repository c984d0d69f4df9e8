//! Pure rules of the Tomoni domain: names, roles, who may see whom, codes and tokens. No I/O here.

pub mod access;
pub mod client_address;
pub mod clock;
pub mod contact;
pub mod credentials;
pub mod matching;
pub mod outings;
pub mod people;
pub mod push;
pub mod quiet_hours;
pub mod rota;
pub mod text;
pub mod training;
