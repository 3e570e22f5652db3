//! The one table of architecture rules (`docs/ARCHITECTURE.md` shows it, generated).

use std::fmt::Write as _;

/// Every rule tidy checks.
pub struct Rules {
    /// Which workspace crates each crate may depend on (normal and build dependencies).
    pub crates: &'static [CrateRow],
    /// The sans-I/O crates: the only dependencies they may have.
    pub pure: &'static [Pure],
    /// Where limits are defined.
    pub limits: Limits,
    /// Per crate, the files where platform `cfg`s may appear.
    pub platform: &'static [Platform],
    /// Per crate, its module layers.
    pub layers: &'static [Layers],
}

/// A crate and the workspace crates it may depend on.
pub struct CrateRow {
    /// The crate.
    pub name: &'static str,
    /// The workspace crates it may use.
    pub may_use: &'static [&'static str],
}

/// A crate that does no I/O.
pub struct Pure {
    /// The crate.
    pub name: &'static str,
    /// The only dependencies it may have (any crate).
    pub deps: &'static [&'static str],
}

/// The rule of limits.
pub struct Limits {
    /// The crate that defines the protocol's limits (`chatio_wire::limits`).
    pub home: &'static str,
    /// Implementation bounds that are not protocol limits.
    pub exceptions: &'static [LimitException],
}

/// A literal bound allowed outside the limits' home.
pub struct LimitException {
    /// The crate.
    pub krate: &'static str,
    /// The constant.
    pub name: &'static str,
    /// Why it is not a protocol limit.
    pub why: &'static str,
}

/// A crate's platform modules.
pub struct Platform {
    /// The crate.
    pub name: &'static str,
    /// Files (`lib.rs`) and folders (`web/`) under `src/` where platform `cfg`s belong.
    pub modules: &'static [&'static str],
}

/// A crate's module layers, top first.
pub struct Layers {
    /// The crate.
    pub name: &'static str,
    /// (name, module paths) from the top layer (what a request meets first) to the bottom.
    pub layers: &'static [(&'static str, &'static [&'static str])],
    /// Modules outside the layering besides the crate root (entry points that wire every
    /// layer together, such as a binary's CLI).
    pub exempt: &'static [&'static str],
}

/// The rules of this workspace.
pub const RULES: Rules = Rules {
    crates: &[
        CrateRow { name: "chatio-wire", may_use: &[] },
        CrateRow { name: "chatio-core", may_use: &["chatio-wire"] },
        CrateRow { name: "chatio-transport", may_use: &["chatio-wire", "chatio-core"] },
        CrateRow { name: "chatio-customer-sdk", may_use: &["chatio-wire", "chatio-core", "chatio-transport"] },
        CrateRow { name: "chatio-agent-sdk", may_use: &["chatio-wire", "chatio-core", "chatio-transport"] },
        CrateRow { name: "chatio-server", may_use: &["chatio-wire"] },
        CrateRow {
            name: "chatio-conformance",
            may_use: &[
                "chatio-wire",
                "chatio-core",
                "chatio-transport",
                "chatio-customer-sdk",
                "chatio-agent-sdk",
                "chatio-server",
            ],
        },
        CrateRow {
            name: "chatio-cli",
            may_use: &["chatio-wire", "chatio-customer-sdk", "chatio-agent-sdk", "chatio-server", "chatio-conformance"],
        },
        CrateRow { name: "chatio-widget", may_use: &["chatio-wire", "chatio-core", "chatio-customer-sdk"] },
        CrateRow { name: "chatio-web-minimal", may_use: &["chatio-customer-sdk"] },
        CrateRow { name: "chatio-agent-web", may_use: &["chatio-wire", "chatio-core", "chatio-agent-sdk"] },
    ],
    pure: &[
        Pure { name: "chatio-wire", deps: &["serde", "serde_json", "serde_path_to_error"] },
        Pure { name: "chatio-core", deps: &["chatio-wire", "serde", "serde_json", "web-time"] },
    ],
    limits: Limits {
        home: "chatio-wire",
        exceptions: &[
            LimitException {
                krate: "chatio-core",
                name: "MAX_VERIFY_ATTEMPTS",
                why: "a count of the outbox's delivery checks, not a size",
            },
            LimitException {
                krate: "chatio-transport",
                name: "MAX_RESPONSE",
                why: "the bound on an HTTP answer the client reads (token endpoint, upload)",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_QUEUED",
                why: "engineioxide's packet buffer per socket.io socket",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_PAYLOAD",
                why: "an Engine.IO payload: one RTM frame plus its packet framing",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_SID_LEN",
                why: "an Engine.IO sid (engineioxide's are 16 characters): a longer one is refused unread",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_TRACKED",
                why: "the token rate limiter's table of client addresses",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_SCANNED_CHATS",
                why: "how many of a license's most recent chats the Agent API's chat lists look through",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_ISSUED_PER_AGENT",
                why: "access tokens issued by sign-in that one agent may hold at once (agent protocol file H10)",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_CONFIGS",
                why: "auto chat scopes configurations one license may hold (agent protocol file H39)",
            },
            LimitException {
                krate: "chatio-server",
                name: "MAX_VISIT_PAGES",
                why: "the pages of a customer's visit the server keeps for agents (agent protocol file H28)",
            },
            LimitException {
                krate: "chatio-conformance",
                name: "MAX_BODY",
                why: "the conformance player's bound on a client's upload body",
            },
        ],
    },
    platform: &[
        Platform { name: "chatio-wire", modules: &["frame/decode.rs"] },
        Platform { name: "chatio-core", modules: &[] },
        Platform { name: "chatio-transport", modules: &["lib.rs", "bounds.rs", "native/", "web/"] },
        Platform { name: "chatio-customer-sdk", modules: &["lib.rs", "sdk.rs", "sdk_native.rs", "sdk_web.rs"] },
    ],
    layers: &[Layers {
        name: "chatio-server",
        layers: &[
            ("assembly", &["server", "cli", "fuzzing", "bot"]),
            ("listener", &["listener"]),
            ("HTTP router", &["http"]),
            ("transports", &["transport"]),
            ("RTM session", &["session"]),
            ("request gate", &["gate"]),
            ("state", &["state"]),
            ("actions", &["actions"]),
            ("data", &["store", "agents"]),
            ("primitives", &["sendq", "net", "counters", "config", "error", "files", "identity"]),
        ],
        exempt: &[],
    }],
};

impl Rules {
    /// One line: how many rows of each kind.
    pub fn summary(&self) -> String {
        format!(
            "{} crates, {} sans-I/O, {} limit exceptions, platform rules for {}, layer tables for {}",
            self.crates.len(),
            self.pure.len(),
            self.limits.exceptions.len(),
            names(self.platform.iter().map(|p| p.name)),
            names(self.layers.iter().map(|l| l.name)),
        )
    }

    /// The table as Markdown (what `docs/ARCHITECTURE.md` shows).
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let code = |v: &[&str]| {
            if v.is_empty() {
                "—".to_owned()
            } else {
                v.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
            }
        };
        s.push_str("**Crates** (normal and build dependencies on workspace crates; a new crate needs a row):\n\n");
        s.push_str("| crate | may depend on |\n|---|---|\n");
        for r in self.crates {
            let _ = writeln!(s, "| `{}` | {} |", r.name, code(r.may_use));
        }
        s.push_str("\n**Sans I/O** (no clock, I/O, thread, process, spawn or randomness in code outside tests; only these dependencies):\n\n");
        s.push_str("| crate | its only dependencies |\n|---|---|\n");
        for p in self.pure {
            let _ = writeln!(s, "| `{}` | {} |", p.name, code(p.deps));
        }
        let _ = writeln!(
            s,
            "\n**Limits** are defined once, in `{}` (`limits.rs`): elsewhere a `const MAX_…` or `…_LIMIT…` set to a literal is an error, except these implementation bounds:\n",
            self.limits.home
        );
        s.push_str("| crate | constant | why it is not a protocol limit |\n|---|---|---|\n");
        for e in self.limits.exceptions {
            let _ = writeln!(s, "| `{}` | `{}` | {} |", e.krate, e.name, e.why);
        }
        s.push_str("\n**Platform modules** (the only files where `target_arch = \"wasm32\"`, `feature = \"web\"`, `target_family = \"wasm\"` appear outside tests):\n\n");
        s.push_str("| crate | platform modules |\n|---|---|\n");
        for p in self.platform {
            let _ = writeln!(s, "| `{}` | {} |", p.name, code(p.modules));
        }
        s.push_str("\n**Module layers** (a module imports only its own layer and those below; no import circle):\n\n");
        if self.layers.is_empty() {
            s.push_str("none yet.\n");
        }
        for l in self.layers {
            let _ = writeln!(
                s,
                "`{}`, top to bottom{}:\n",
                l.name,
                if l.exempt.is_empty() { String::new() } else { format!(" (outside the layers: {})", code(l.exempt)) }
            );
            s.push_str("| layer | modules |\n|---|---|\n");
            for (name, mods) in l.layers {
                let _ = writeln!(s, "| {name} | {} |", code(mods));
            }
            s.push('\n');
        }
        s.trim_end().to_owned()
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() { "none".to_owned() } else { v.join(", ") }
}
