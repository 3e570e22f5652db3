//! Ids and secrets: ids per G1 from a seeded generator, secrets (tokens, the names of
//! uploaded files, which are capabilities) from the operating system's random source, so
//! that a known `--seed` never makes them guessable (and issuing one does not shift ids).

/// The id generator and the chats' activity sequence.
#[derive(Debug)]
pub(crate) struct Ids {
    rng: fastrand::Rng,
    /// The last value of the activity sequence.
    activity: u64,
}

/// `n` bytes from the operating system's random source. Should it ever fail (no
/// `getrandom(2)`, no `/dev/urandom`), an unseeded generator fills in and the failure is
/// logged: the server keeps working, tokens are then only as good as that generator.
fn os_random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        tracing::error!(error = %e, "the OS random source failed: secrets come from a weaker generator");
        let mut rng = fastrand::Rng::new();
        rng.fill(&mut buf);
    }
    buf
}

impl Ids {
    /// A generator seeded with `seed`, its activity sequence at 0.
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: fastrand::Rng::with_seed(seed), activity: 0 }
    }

    /// The generator's position: the random state and the activity sequence (what a
    /// database stores so that a restart never draws an id twice).
    pub(crate) fn position(&self) -> (u64, u64) {
        (self.rng.get_seed(), self.activity)
    }

    /// A generator at a stored [`position`](Self::position).
    pub(crate) fn at(position: (u64, u64)) -> Self {
        Self { rng: fastrand::Rng::with_seed(position.0), activity: position.1 }
    }

    /// The next value of the activity sequence: a chat touched later gets a larger one
    /// (pages of `get_chats_summary` are sorted by it, since seconds tie).
    pub(crate) fn next_activity(&mut self) -> u64 {
        self.activity += 1;
        self.activity
    }

    /// `n` lower-case hex characters from the OS random source (file-URL capabilities).
    pub(crate) fn secret_hex(n: usize) -> String {
        os_random(n.div_ceil(2))
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0f])
            .take(n)
            .map(|d| char::from(b"0123456789abcdef"[usize::from(d)]))
            .collect()
    }

    /// 10 characters of `[0-9A-Z]` (chat and thread ids).
    pub(crate) fn short(&mut self) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        (0..10).map(|_| char::from(A[self.rng.usize(..A.len())])).collect()
    }

    /// A lower-case UUID v4 (customer ids).
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.rng.u64(..);
        let b = self.rng.u64(..);
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    /// `n` lower-case hex characters.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b"0123456789abcdef"[self.rng.usize(..16)])).collect()
    }

    /// An opaque token secret: 22 characters of `[0-9a-zA-Z]` (131 bits) from the OS
    /// random source.
    pub(crate) fn token() -> String {
        const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        // Rejection sampling keeps every character equally likely (62 does not divide 256).
        let mut body = String::with_capacity(22);
        while body.len() < 22 {
            for b in os_random(32) {
                if usize::from(b) < 4 * A.len() && body.len() < 22 {
                    body.push(char::from(A[usize::from(b) % A.len()]));
                }
            }
        }
        format!("dev-{body}")
    }
}
