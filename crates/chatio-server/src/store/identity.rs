//! What resumes a customer besides its access tokens (G11, G36): refresh-token families and
//! the browsers the accounts page remembers. Secrets go in and come out, the store keeps
//! only their digests (`crate::identity`).

use chatio_wire::UserId;

use super::Result;
use crate::identity::refresh::RefreshRefusal;

/// A refresh token's use: its customer and the family's next secret, or why not.
pub(crate) type Rotation = std::result::Result<(u64, UserId, String), RefreshRefusal>;

/// Refresh-token families and remembered browsers.
pub(crate) trait IdentityStore {
    /// Starts a refresh-token family for a customer; returns its first secret (usable for
    /// `lifetime` seconds after each use).
    fn start_family(
        &mut self,
        license: u64,
        customer: &UserId,
        client_id: &str,
        now: u64,
        lifetime: u64,
    ) -> Result<String>;

    /// Uses a refresh token: rotates it (a reused one revokes its family).
    fn rotate_refresh(&mut self, secret: &str, client_id: &str, now: u64, lifetime: u64) -> Result<Rotation>;

    /// A new cookie secret remembering a browser as `customer`.
    fn remember_browser(&mut self, license: u64, customer: &UserId, now: u64, lifetime: u64) -> Result<String>;

    /// The customer a cookie secret names on `license`, while it has not expired.
    fn remembered(&mut self, license: u64, secret: &str, now: u64) -> Result<Option<UserId>>;

    /// Revokes every refresh token and remembered browser of a customer (a ban).
    fn revoke_identity(&mut self, license: u64, customer: &UserId) -> Result<()>;

    /// Forgets expired families and browsers; returns how many went.
    fn purge_identity(&mut self, now: u64) -> Result<usize>;

    /// Families and remembered browsers held.
    fn identity_counts(&mut self) -> Result<(usize, usize)>;
}
