//! Customers of a license: their data (name, e-mail, fields, monitoring), their visits as
//! agents see them, and bans.

use std::collections::BTreeMap;

use chatio_wire::{CurrentVisit, CustomerMonitoring, Monitoring, Page, Timestamp, UserId, VisitStats, VisitedPage};

use serde::{Deserialize, Serialize};

use super::Result;

/// A customer of a license.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) fields: BTreeMap<String, String>,
    pub(crate) monitoring: Option<Monitoring>,
    pub(crate) banned: bool,
    /// The files the customer uploaded, counted against its quotas (G38).
    #[serde(default)]
    pub(crate) uploads: Uploads,
    /// When a ban of `ban_customer` ends (Unix seconds); `None`: it does not end (the admin
    /// fault's ban).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ban_ends: Option<u64>,
    /// The customer's visits, for agents (H28).
    #[serde(default, skip_serializing_if = "Visits::is_empty")]
    pub(crate) visits: Visits,
}

impl Customer {
    /// Whether the customer is banned at `now`.
    pub(crate) fn banned_at(&self, now: u64) -> bool {
        self.banned && self.ban_ends.is_none_or(|end| now < end)
    }
}

/// How many pages of a visit are kept: the newest; older ones still count in `page_views`.
pub(crate) const MAX_VISIT_PAGES: usize = 50;

/// A visit ends when the customer logs in again after this many seconds (H28).
const VISIT_GAP: u64 = 30 * 60;

/// A customer's visits as agents see them (H28): built from the customer's logins and the
/// `monitoring.page` of `login`/`update_customer`. Bounded: [`MAX_VISIT_PAGES`] pages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Visits {
    /// When the current visit started (Unix seconds); 0: no visit yet.
    start: u64,
    /// The customer's last login or page (Unix seconds).
    last_active: u64,
    /// The current visit's pages (start, URL, title), oldest first.
    pages: Vec<(u64, String, Option<String>)>,
    /// The current visit's referrer.
    referrer: Option<String>,
    /// Visits so far.
    count: u64,
    /// Pages seen, every visit.
    page_views: u64,
    /// When the previous visit started.
    last_visit: Option<u64>,
}

impl Visits {
    fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// A login at `now`: a new visit when there is none, or the last activity is at least
    /// 30 minutes old.
    pub(crate) fn login(&mut self, now: u64) {
        if self.count == 0 || now.saturating_sub(self.last_active) >= VISIT_GAP {
            if self.count > 0 {
                self.last_visit = Some(self.start);
            }
            self.count += 1;
            self.start = now;
            self.pages.clear();
            self.referrer = None;
        }
        self.last_active = now;
    }

    /// The customer says it is on `page`: a new page unless it is the URL of the last one
    /// (whose title is updated); the referrer when the page names one.
    pub(crate) fn page(&mut self, now: u64, page: &Page) {
        if self.count == 0 {
            self.login(now);
        }
        self.last_active = now;
        if let Some(r) = page.referrer.as_ref().filter(|r| !r.is_empty()) {
            self.referrer = Some(r.clone());
        }
        let Some(url) = &page.url else { return };
        match self.pages.last_mut() {
            Some(last) if &last.1 == url => {
                if page.title.is_some() {
                    last.2.clone_from(&page.title);
                }
            }
            _ => {
                if self.pages.len() == MAX_VISIT_PAGES {
                    self.pages.remove(0);
                }
                self.pages.push((now, url.clone(), page.title.clone()));
                self.page_views += 1;
            }
        }
    }

    /// The agent-view `monitoring` (`host`, `geolocation`, `ip`, `user_agent` and
    /// `stats.threads` left out); `None` before the first visit.
    pub(crate) fn monitoring(&self) -> Option<CustomerMonitoring> {
        if self.is_empty() {
            return None;
        }
        let mut visit = CurrentVisit::default();
        visit.start = Some(Timestamp::from_secs(self.start));
        visit.pages = self
            .pages
            .iter()
            .map(|(start, url, title)| VisitedPage::new(Timestamp::from_secs(*start), url.clone(), title.clone()))
            .collect();
        let mut stats = VisitStats::default();
        stats.visits = Some(self.count);
        stats.page_views = Some(self.page_views);
        stats.last_visit = self.last_visit.map(Timestamp::from_secs);
        let mut m = CustomerMonitoring::default();
        m.current_visit = Some(visit);
        m.stats = Some(stats);
        m.referrer.clone_from(&self.referrer);
        Some(m)
    }
}

/// A customer's uploads: how many files, how many bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Uploads {
    pub(crate) files: u64,
    pub(crate) bytes: u64,
}

/// Customers, by license and id.
pub(crate) trait CustomerStore {
    /// The customer, if it exists.
    fn customer(&mut self, license: u64, id: &UserId) -> Result<Option<Customer>>;

    /// Creates or replaces a customer.
    fn put_customer(&mut self, license: u64, id: &UserId, customer: Customer) -> Result<()>;

    /// Examines at most `limit` customers, the next ones after `after` in (license, id)
    /// order (`None`: from the first), and forgets those nobody can reach any more: not
    /// banned, without a token, a refresh family, a remembered browser or a chat, unless
    /// `keep` says otherwise (a connection, an armed fault). Returns how many went and the
    /// last one examined, after which the next pass goes on (`None`: the end was reached,
    /// the next pass starts over). A pass costs `limit` customers whatever their number.
    fn purge_customers(
        &mut self,
        after: Option<&(u64, UserId)>,
        limit: usize,
        keep: &mut dyn FnMut(u64, &UserId) -> bool,
    ) -> Result<(usize, Option<(u64, UserId)>)>;

    /// How many customers there are, every license together.
    fn customer_count(&mut self) -> Result<usize>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str, title: &str, referrer: Option<&str>) -> Page {
        let mut p = Page::default();
        p.url = Some(url.to_owned());
        p.title = Some(title.to_owned());
        p.referrer = referrer.map(str::to_owned);
        p
    }

    fn urls(v: &Visits) -> Vec<String> {
        let m = v.monitoring().expect("a visit");
        m.current_visit.expect("current visit").pages.into_iter().filter_map(|p| p.url).collect()
    }

    #[test]
    fn pages_join_the_visit_once_each_and_a_late_login_starts_the_next() {
        let mut v = Visits::default();
        assert_eq!(v.monitoring(), None, "no visit before the first login");
        v.login(1_000);
        v.page(1_001, &page("https://shop.example/a", "A", Some("https://search.example/")));
        v.page(1_002, &page("https://shop.example/a", "A, renamed", None));
        v.page(1_003, &page("https://shop.example/b", "B", None));
        let m = v.monitoring().unwrap();
        assert_eq!(urls(&v), ["https://shop.example/a", "https://shop.example/b"]);
        let visit = m.current_visit.unwrap();
        assert_eq!(visit.start, Some(Timestamp::from_secs(1_000)));
        assert_eq!(visit.pages[0].title.as_deref(), Some("A, renamed"));
        assert_eq!(visit.pages[1].start, Some(Timestamp::from_secs(1_003)));
        assert_eq!(m.referrer.as_deref(), Some("https://search.example/"));
        let stats = m.stats.unwrap();
        assert_eq!((stats.visits, stats.page_views, stats.last_visit), (Some(1), Some(2), None));

        // A login within 30 minutes of the last page is the same visit; later, a new one.
        v.login(1_003 + VISIT_GAP - 1);
        assert_eq!(urls(&v).len(), 2);
        v.login(1_003 + 2 * VISIT_GAP);
        let m = v.monitoring().unwrap();
        assert_eq!(urls(&v), Vec::<String>::new());
        assert_eq!(m.referrer, None);
        let stats = m.stats.unwrap();
        assert_eq!(
            (stats.visits, stats.page_views, stats.last_visit),
            (Some(2), Some(2), Some(Timestamp::from_secs(1_000)))
        );
    }

    #[test]
    fn a_visit_keeps_the_newest_pages_only() {
        let mut v = Visits::default();
        for i in 0..(MAX_VISIT_PAGES as u64 + 7) {
            v.page(i, &page(&format!("https://shop.example/{i}"), "p", None));
        }
        let kept = urls(&v);
        assert_eq!(kept.len(), MAX_VISIT_PAGES);
        assert_eq!(
            kept.last().map(String::as_str),
            Some(format!("https://shop.example/{}", MAX_VISIT_PAGES + 6).as_str())
        );
        assert_eq!(v.monitoring().unwrap().stats.unwrap().page_views, Some(MAX_VISIT_PAGES as u64 + 7));
    }
}
