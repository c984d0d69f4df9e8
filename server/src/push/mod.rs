//! Web Push transport: VAPID keys and signatures (RFC 8292), payload encryption (RFC 8291,
//! aes128gcm), and sending with reqwest. Built on `ring`, already in the tree through rustls, so
//! push adds no second crypto stack and needs no system library.
//!
//! Nothing here logs an endpoint or a payload: endpoints identify a person's browser.

pub mod encrypt;
pub mod sender;
pub mod vapid;

pub use sender::{PushClient, PushRequest, SendResult};
pub use vapid::VapidKey;
