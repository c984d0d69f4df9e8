//! The clock `serve --demo` runs under: the real one, except while the demo writes its history,
//! when it is held at the moment each past step happened (a module completed, a supervision
//! session), so that what the rules stamp with "now" is stamped with that moment.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tomoni_schema::domain::clock::{Clock, SharedClock};

pub struct HeldClock {
    inner: SharedClock,
    held: Mutex<Option<DateTime<Utc>>>,
}

impl HeldClock {
    /// Follows `inner` until [`HeldClock::hold`] is called.
    pub fn new(inner: SharedClock) -> Self {
        Self {
            inner,
            held: Mutex::new(None),
        }
    }

    /// From now on, and until released, "now" is `at`.
    pub fn hold(&self, at: DateTime<Utc>) {
        *self.lock() = Some(at);
    }

    /// Back to the clock it follows.
    pub fn release(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for HeldClock {
    fn now(&self) -> DateTime<Utc> {
        let held = *self.lock();
        held.unwrap_or_else(|| self.inner.now())
    }
}
