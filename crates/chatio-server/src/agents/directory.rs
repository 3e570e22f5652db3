//! The agents of each license (protocol file §3.2, H7, H8, H34): configured, never created
//! through the Agent API.
//!
//! An agent comes from the configuration ([`AgentSpec`], built by the library's user or
//! read from `--agents FILE`) or from a fixed test token (`--agent-token EMAIL=TOKEN`,
//! which registers the agent if it is not configured otherwise). Ids are compared
//! case-insensitively and kept in lower case (H40).

use std::collections::BTreeMap;

use super::routing::{Priority, RoutingStatus};
use super::scopes::Permission;

/// One configured agent (a person, or a bot with an owner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Account {
    /// Lower-case e-mail (bots: 32 hex characters).
    pub(crate) id: String,
    pub(crate) name: String,
    /// Absolute URL (`None`: the server's default avatar).
    pub(crate) avatar: Option<String>,
    pub(crate) permission: Permission,
    /// Its groups and priorities (default: group 0, normal).
    pub(crate) groups: Vec<(u64, Priority)>,
    /// Chats with an active thread routing may give it (CFG default 6).
    pub(crate) max_chats: usize,
    /// For a bot: the agent whose token may act as it (`author_id`, H34); `None` for the
    /// server's own scripted bot and for people.
    pub(crate) bot: Option<Bot>,
}

/// What makes an agent a bot (§9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bot {
    /// The agent (lower-case id) whose token acts as the bot; `None`: the server's scripted
    /// bot, which holds a token of its own.
    pub(crate) owner: Option<String>,
    /// Its configured status (bots do not log in).
    pub(crate) status: RoutingStatus,
}

impl Account {
    /// A person with the defaults: name from the e-mail's local part, normal permission,
    /// group 0, 6 chats.
    #[cfg(test)]
    pub(crate) fn person(email: &str) -> Account {
        let id = email.to_lowercase();
        let name = id.split('@').next().unwrap_or(&id).to_owned();
        Account {
            id,
            name,
            avatar: None,
            permission: Permission::Normal,
            groups: vec![(0, Priority::Normal)],
            max_chats: crate::config::DEFAULT_AGENT_MAX_CHATS,
            bot: None,
        }
    }

    /// Whether the account is a bot.
    pub(crate) fn is_bot(&self) -> bool {
        self.bot.is_some()
    }

    /// The groups' ids.
    pub(crate) fn group_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.groups.iter().map(|(g, _)| *g)
    }
}

/// The agents of every license, by lower-case id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Directory {
    by_license: BTreeMap<u64, BTreeMap<String, Account>>,
}

impl Directory {
    /// Adds (or replaces) an agent of `license`.
    pub(crate) fn insert(&mut self, license: u64, account: Account) {
        self.by_license.entry(license).or_default().insert(account.id.clone(), account);
    }

    /// An agent of `license`, by id in any case.
    pub(crate) fn get(&self, license: u64, id: &str) -> Option<&Account> {
        let agents = self.by_license.get(&license)?;
        agents.get(id).or_else(|| agents.get(&id.to_lowercase()))
    }

    /// Whether chat scopes restrict anything on `license`: some agent has a group other
    /// than 0 (else scopes are ignored, CUST G34).
    pub(crate) fn scopes_enforced(&self, license: u64) -> bool {
        self.agents(license).any(|a| a.group_ids().any(|g| g != 0))
    }

    /// The agents of `license`, by id.
    pub(crate) fn agents(&self, license: u64) -> impl Iterator<Item = &Account> {
        self.by_license.get(&license).into_iter().flat_map(|a| a.values())
    }

    /// Whether any agent but the bots without owner (the scripted bot) is configured for
    /// `license`: with none, the router stays silent (H37).
    pub(crate) fn has_routable(&self, license: u64) -> bool {
        self.agents(license).any(|a| a.bot.as_ref().is_none_or(|b| b.owner.is_some()))
    }
}

/// Parses `EMAIL=TOKEN` (`--agent-token`): an e-mail-like id and a token of at least 16
/// characters without white space (H8).
///
/// # Errors
/// A message naming what is wrong, never repeating the token.
pub(crate) fn parse_agent_token(text: &str) -> Result<(String, String), String> {
    let Some((email, token)) = text.split_once('=') else {
        return Err("expected EMAIL=TOKEN".into());
    };
    let email = parse_agent_email(email)?;
    if token.chars().count() < super::tokens::MIN_FIXED_TOKEN_LEN {
        return Err(format!(
            "the token for `{email}` is shorter than {} characters",
            super::tokens::MIN_FIXED_TOKEN_LEN
        ));
    }
    if token.chars().any(char::is_whitespace) || token.starts_with("Bearer") {
        return Err(format!("the token for `{email}` contains white space (give it without `Bearer `)"));
    }
    Ok((email, token.to_owned()))
}

/// An agent's e-mail address as `--agent EMAIL` gives it: trimmed, lower case (H40), with
/// something on each side of one `@` and no white space.
pub(crate) fn parse_agent_email(text: &str) -> Result<String, String> {
    let email = text.trim();
    let valid = email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !email.chars().any(char::is_whitespace);
    if !valid {
        return Err(format!("`{email}` is not an e-mail address"));
    }
    Ok(email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_tokens_parse_and_errors_never_repeat_the_token() {
        assert_eq!(
            parse_agent_token("Jane@Example.com=0123456789abcdef"),
            Ok(("jane@example.com".into(), "0123456789abcdef".into()))
        );
        let short = parse_agent_token("jane@example.com=secret-short").unwrap_err();
        assert!(short.contains("shorter than 16") && !short.contains("secret-short"), "{short}");
        let spaced = parse_agent_token("jane@example.com=Bearer 0123456789abcdef").unwrap_err();
        assert!(!spaced.contains("0123456789abcdef"), "{spaced}");
        assert!(parse_agent_token("jane=0123456789abcdef").is_err());
        assert!(parse_agent_token("0123456789abcdef").is_err());
    }

    #[test]
    fn ids_are_case_insensitive_and_the_scripted_bot_is_not_routable() {
        let mut d = Directory::default();
        let scripted = Account {
            bot: Some(Bot { owner: None, status: RoutingStatus::AcceptingChats }),
            ..Account::person("0123456789abcdef0123456789abcdef")
        };
        d.insert(100, scripted);
        assert!(!d.has_routable(100), "H37: only the scripted bot");
        d.insert(100, Account::person("Jane@Example.com"));
        assert!(d.has_routable(100));
        assert_eq!(d.get(100, "JANE@example.COM").map(|a| a.name.as_str()), Some("jane"));
        assert!(d.get(101, "jane@example.com").is_none(), "licenses are apart");
    }
}
