//! The lists an agent picks leads from: the tabs (my queue, all leads, callbacks), one keyset
//! page of leads at a time, search as you type, and the filter. Replies to list requests land
//! here; an answer to an older request than the latest is dropped.

use crossterm::event::{KeyCode, KeyEvent};
use uuid::Uuid;

use crate::store::{Callback, Lead, LeadCursor, LeadFilter, Page};
use crate::tui::request::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueTab {
    /// What claim-next would give this agent: due callbacks first, then the queue.
    Mine,
    All,
    Callbacks,
}

impl QueueTab {
    pub const ALL: [QueueTab; 3] = [QueueTab::Mine, QueueTab::All, QueueTab::Callbacks];

    pub fn title(self) -> &'static str {
        match self {
            QueueTab::Mine => "My queue",
            QueueTab::All => "All leads",
            QueueTab::Callbacks => "Callbacks",
        }
    }
}

/// One page of leads at a time: memory stays flat however many leads there are, and moving
/// past either end loads the neighbouring page by keyset.
#[derive(Debug, Clone, Default)]
struct LeadPage {
    items: Vec<Lead>,
    selected: usize,
    /// Where each earlier page started, to go back.
    previous: Vec<Option<LeadCursor>>,
    start: Option<LeadCursor>,
    next: Option<LeadCursor>,
    loading: bool,
    /// Select the last row when the page arrives (after paging backwards).
    select_last: bool,
    /// Keep the selected row when the page arrives (a refresh, not a move).
    keep_selection: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SearchBox {
    input: tui_input::Input,
    /// The box has the keyboard.
    editing: bool,
    /// Results of the latest query, shown instead of the tab's list while a query is set.
    results: Option<Vec<Lead>>,
    selected: usize,
}

impl SearchBox {
    pub fn text(&self) -> &str {
        self.input.value()
    }

    /// Where the cursor is in the text, in columns.
    pub fn cursor(&self) -> usize {
        self.input.visual_cursor()
    }

    pub fn editing(&self) -> bool {
        self.editing
    }

    pub fn results(&self) -> Option<&[Lead]> {
        self.results.as_deref()
    }

    /// Shown at all: being typed, or holding a query.
    pub fn visible(&self) -> bool {
        self.editing || self.results.is_some() || !self.input.value().is_empty()
    }
}

/// What a key typed into the search box leads to.
#[derive(Debug, PartialEq)]
pub enum SearchKey {
    Requests(Vec<Request>),
    /// Enter on a single match: open it.
    OpenSelected,
}

#[derive(Debug, Clone)]
pub struct Lists {
    agent_id: i64,
    tab: QueueTab,
    page: LeadPage,
    callbacks: Vec<Callback>,
    search: SearchBox,
    filter: LeadFilter,
    /// Latest list and search requests; older answers are dropped.
    list_seq: u64,
    search_seq: u64,
}

impl Lists {
    pub fn new(agent_id: i64) -> Lists {
        Lists {
            agent_id,
            tab: QueueTab::Mine,
            page: LeadPage::default(),
            callbacks: Vec::new(),
            search: SearchBox::default(),
            filter: LeadFilter::default(),
            list_seq: 0,
            search_seq: 0,
        }
    }

    // ------------------------------------------------------------------ reading

    pub fn tab(&self) -> QueueTab {
        self.tab
    }

    /// The leads of the page on screen.
    pub fn leads(&self) -> &[Lead] {
        &self.page.items
    }

    /// The selected row of the tab's list (leads or callbacks).
    pub fn selected(&self) -> usize {
        self.page.selected
    }

    pub fn loading(&self) -> bool {
        self.page.loading
    }

    /// "page 3" past the first page.
    pub fn page_number(&self) -> Option<usize> {
        (self.tab != QueueTab::Callbacks && self.search.results.is_none() && !self.page.previous.is_empty())
            .then(|| self.page.previous.len() + 1)
    }

    /// Whether a change to this lead may change the list on screen (the tab's page or its
    /// callbacks): the list holds it, or the list is empty (an agent waiting for work sees the
    /// first lead that comes).
    pub fn may_change(&self, lead_id: Uuid) -> bool {
        match self.tab {
            QueueTab::Callbacks => self.callbacks.is_empty() || self.callbacks.iter().any(|c| c.lead_id == lead_id),
            _ => self.page.items.is_empty() || self.page.items.iter().any(|l| l.id == lead_id),
        }
    }

    /// This agent's open callbacks in the next days, soonest first.
    pub fn callbacks(&self) -> &[Callback] {
        &self.callbacks
    }

    pub fn search(&self) -> &SearchBox {
        &self.search
    }

    pub fn filter(&self) -> &LeadFilter {
        &self.filter
    }

    /// The rows on screen: search results while a query is set, else the tab's page, and which
    /// of them is selected.
    pub fn shown(&self) -> (&[Lead], usize) {
        match &self.search.results {
            Some(results) => (results, self.search.selected),
            None => (&self.page.items, self.page.selected),
        }
    }

    pub fn selected_lead(&self) -> Option<&Lead> {
        let (leads, selected) = self.shown();
        leads.get(selected)
    }

    /// The lead Enter opens: the selected callback's lead on the callbacks tab.
    pub fn selected_lead_id(&self) -> Option<Uuid> {
        match self.tab {
            QueueTab::Callbacks if self.search.results.is_none() => {
                self.callbacks.get(self.page.selected).map(|c| c.lead_id)
            }
            _ => self.selected_lead().map(|l| l.id),
        }
    }

    // ------------------------------------------------------------------ asking

    /// The tab's list from its first page.
    pub fn reload(&mut self) -> Vec<Request> {
        self.page.previous.clear();
        self.page.start = None;
        self.load_page(None)
    }

    /// The page on screen again, where it is, keeping the selection (for live updates).
    pub fn refresh(&mut self) -> Vec<Request> {
        if self.page.loading {
            return Vec::new();
        }
        self.page.keep_selection = true;
        let start = self.page.start;
        self.load_page(start)
    }

    fn load_page(&mut self, after: Option<LeadCursor>) -> Vec<Request> {
        self.page.loading = self.tab != QueueTab::Callbacks;
        self.list_seq += 1;
        let seq = self.list_seq;
        let agent_id = self.agent_id;
        vec![match self.tab {
            QueueTab::Callbacks => Request::Callbacks { agent_id },
            QueueTab::Mine => Request::Queue { seq, agent_id },
            QueueTab::All => Request::Leads {
                seq,
                filter: self.filter.clone(),
                after,
            },
        }]
    }

    pub fn cycle_tab(&mut self, forward: bool) -> Vec<Request> {
        self.show_tab(super::cycle(&QueueTab::ALL, self.tab, forward))
    }

    pub fn show_tab(&mut self, tab: QueueTab) -> Vec<Request> {
        self.tab = tab;
        self.search = SearchBox::default();
        self.reload()
    }

    /// The filter narrows "All leads" and search. My queue stays what claim-next gives (a
    /// filtered view of it would promise leads `n` does not hand out), so applying a filter
    /// shows the list it applies to.
    pub fn set_filter(&mut self, filter: LeadFilter) -> Vec<Request> {
        self.filter = filter;
        self.show_tab(QueueTab::All)
    }

    /// The filter narrows this tab.
    pub fn filtered(&self, tab: QueueTab) -> bool {
        tab == QueueTab::All && self.filter != LeadFilter::default()
    }

    /// Moves the selection; past either end of a page (by j/k or a page's worth), the
    /// neighbouring page is loaded by keyset.
    pub fn move_by(&mut self, by: i64) -> Vec<Request> {
        if let Some(results) = &self.search.results {
            self.search.selected = super::step(self.search.selected, by, results.len());
            return Vec::new();
        }
        let len = if self.tab == QueueTab::Callbacks {
            self.callbacks.len()
        } else {
            self.page.items.len()
        };
        let wanted = self.page.selected as i64 + by;
        if by.abs() <= 10 && self.tab != QueueTab::Callbacks && !self.page.loading {
            if wanted >= len as i64 && self.page.next.is_some() {
                self.page.previous.push(self.page.start);
                let after = self.page.next;
                self.page.start = after;
                return self.load_page(after);
            }
            if wanted < 0 && !self.page.previous.is_empty() {
                let start = self.page.previous.pop().flatten();
                self.page.start = start;
                self.page.select_last = true;
                return self.load_page(start);
            }
        }
        self.page.selected = super::step(self.page.selected, by, len);
        Vec::new()
    }

    // ------------------------------------------------------------------ search

    pub fn begin_search(&mut self) {
        self.search.editing = true;
    }

    /// Back out of a search; false when there was none to leave.
    pub fn clear_search(&mut self) -> bool {
        let had = self.search.results.is_some() || self.search.editing;
        self.search = SearchBox::default();
        had
    }

    pub fn showing_results(&self) -> bool {
        self.search.results.is_some()
    }

    pub fn search_key(&mut self, key: KeyEvent) -> SearchKey {
        match key.code {
            KeyCode::Esc => {
                self.search = SearchBox::default();
                SearchKey::Requests(Vec::new())
            }
            KeyCode::Enter | KeyCode::Down | KeyCode::Tab => {
                self.search.editing = false;
                if key.code == KeyCode::Enter && self.search.results.as_ref().is_some_and(|r| r.len() == 1) {
                    return SearchKey::OpenSelected;
                }
                SearchKey::Requests(Vec::new())
            }
            _ => {
                let before = self.search.input.value().to_string();
                if let Some(request) =
                    tui_input::backend::crossterm::to_input_request(&crossterm::event::Event::Key(key))
                {
                    self.search.input.handle(request);
                }
                let text = self.search.input.value().to_string();
                if text == before {
                    return SearchKey::Requests(Vec::new());
                }
                if text.trim().is_empty() {
                    self.search.results = None;
                    return SearchKey::Requests(Vec::new());
                }
                self.search_seq += 1;
                SearchKey::Requests(vec![Request::Search {
                    seq: self.search_seq,
                    text,
                    filter: self.filter.clone(),
                }])
            }
        }
    }

    // ------------------------------------------------------------------ replies

    pub fn on_leads(&mut self, seq: u64, after: Option<LeadCursor>, page: Page<Lead>) {
        if seq != self.list_seq {
            // An older page answer: a newer request is on its way.
            return;
        }
        let p = &mut self.page;
        p.loading = false;
        p.start = after;
        p.next = page.next;
        p.items = page.items;
        let last = p.items.len().saturating_sub(1);
        p.selected = if std::mem::take(&mut p.select_last) {
            last
        } else if std::mem::take(&mut p.keep_selection) {
            p.selected.min(last)
        } else {
            0
        };
    }

    pub fn on_queue(&mut self, seq: u64, leads: Vec<Lead>) {
        if seq != self.list_seq {
            return;
        }
        let p = &mut self.page;
        p.loading = false;
        p.keep_selection = false;
        p.next = None;
        p.items = leads;
        p.selected = p.selected.min(p.items.len().saturating_sub(1));
    }

    pub fn on_search(&mut self, seq: u64, leads: Vec<Lead>) {
        if seq == self.search_seq && !self.search.input.value().trim().is_empty() {
            self.search.selected = 0;
            self.search.results = Some(leads);
        }
    }

    pub fn on_callbacks(&mut self, callbacks: Vec<Callback>) {
        self.callbacks = callbacks;
        if self.tab == QueueTab::Callbacks {
            self.page.selected = self.page.selected.min(self.callbacks.len().saturating_sub(1));
        }
    }

    /// A request failed: nothing is loading any more.
    pub fn on_failed(&mut self) {
        self.page.loading = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Page;

    fn leads(n: usize) -> Vec<Lead> {
        (0..n)
            .map(|i| crate::tui::app::tests::lead(&format!("Lead{i}")))
            .collect()
    }

    fn seq(requests: &[Request]) -> u64 {
        match requests {
            [Request::Leads { seq, .. }] | [Request::Queue { seq, .. }] => *seq,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_answer_to_an_older_request_is_dropped() {
        let mut lists = Lists::new(1);
        let first = seq(&lists.reload());
        let second = seq(&lists.reload());
        lists.on_queue(first, leads(3));
        assert!(lists.leads().is_empty() && lists.loading());
        lists.on_queue(second, leads(2));
        assert_eq!(lists.leads().len(), 2);
        assert!(!lists.loading());
    }

    #[test]
    fn moving_past_the_page_asks_for_the_next_and_back_selects_the_last_row() {
        let mut lists = Lists::new(1);
        let requests = lists.show_tab(QueueTab::All);
        let cursor = leads(1)[0].cursor();
        lists.on_leads(
            seq(&requests),
            None,
            Page {
                items: leads(3),
                next: Some(cursor),
            },
        );
        lists.move_by(2);
        assert_eq!(lists.selected(), 2);
        let next = lists.move_by(1);
        assert!(matches!(&next[..], [Request::Leads { after: Some(_), .. }]), "{next:?}");
        lists.on_leads(
            seq(&next),
            Some(cursor),
            Page {
                items: leads(2),
                next: None,
            },
        );
        assert_eq!((lists.selected(), lists.page_number()), (0, Some(2)));
        let back = lists.move_by(-1);
        assert!(matches!(&back[..], [Request::Leads { after: None, .. }]), "{back:?}");
        lists.on_leads(
            seq(&back),
            None,
            Page {
                items: leads(3),
                next: Some(cursor),
            },
        );
        assert_eq!((lists.selected(), lists.page_number()), (2, None));
    }

    #[test]
    fn a_filter_shows_and_marks_the_list_it_applies_to() {
        let mut lists = Lists::new(1);
        assert_eq!(lists.tab(), QueueTab::Mine);
        let filter = LeadFilter {
            min_score: Some(60),
            ..LeadFilter::default()
        };
        let requests = lists.set_filter(filter.clone());
        assert_eq!(lists.tab(), QueueTab::All);
        assert!(matches!(&requests[..], [Request::Leads { filter: f, .. }] if *f == filter));
        assert!(lists.filtered(QueueTab::All));
        assert!(!lists.filtered(QueueTab::Mine), "my queue is never marked as filtered");
    }

    #[test]
    fn search_results_replace_the_list_until_cleared() {
        let mut lists = Lists::new(1);
        lists.begin_search();
        let key = |c| KeyEvent::new(KeyCode::Char(c), crossterm::event::KeyModifiers::NONE);
        lists.search_key(key('a'));
        let SearchKey::Requests(requests) = lists.search_key(key('d')) else {
            panic!("typing searches")
        };
        let Request::Search { seq, text, .. } = &requests[0] else {
            panic!("{requests:?}")
        };
        assert_eq!(text, "ad");
        lists.on_search(*seq - 1, leads(5));
        assert!(
            lists.search().results().is_none(),
            "the older query's answer is dropped"
        );
        lists.on_search(*seq, leads(1));
        assert_eq!(
            lists.search_key(KeyEvent::from(KeyCode::Enter)),
            SearchKey::OpenSelected
        );
        assert_eq!(lists.selected_lead().map(|l| l.first_name.as_str()), Some("Lead0"));
        assert!(lists.clear_search());
        assert!(lists.search().results().is_none());
    }
}
