//! Ban (agent protocol file, 4.7): how long a customer is banned.

use serde::{Deserialize, Serialize};

/// A ban: `{"days": 5}`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ban {
    /// How many days the ban lasts (the reference server accepts 1 to [`Ban::MAX_DAYS`], H19).
    pub days: u32,
}

impl Ban {
    /// The longest ban the reference server accepts: 3 650 days (H39).
    pub const MAX_DAYS: u32 = 3650;

    /// A ban of this many days.
    pub fn days(days: u32) -> Self {
        Self { days }
    }
}
