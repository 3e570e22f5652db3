//! Ids per G1 from a seeded generator. Secrets (tokens, refresh tokens, cookie secrets, the
//! names of uploaded files, which are capabilities) never come from here:
//! `crate::identity::secret` draws them from the operating system's random source, so that a
//! known `--seed` never makes them guessable (and issuing one does not shift ids).

/// The id generator and the chats' activity sequence.
#[derive(Debug)]
pub(crate) struct Ids {
    rng: fastrand::Rng,
    /// The last value of the activity sequence.
    activity: u64,
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
}
