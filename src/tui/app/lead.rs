//! The open lead: who it is, its contact points, its calls and status history, and which of
//! those tabs is in front. It is filled by detail replies and follows edits made anywhere.

use uuid::Uuid;

use crate::store::{CallLog, Contact, Lead, StatusChange};
use crate::tui::request::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailTab {
    Info,
    Calls,
    History,
    /// The call script, filled in for this lead.
    Script,
}

impl DetailTab {
    pub const ALL: [DetailTab; 4] = [DetailTab::Info, DetailTab::Calls, DetailTab::History, DetailTab::Script];

    pub fn title(self) -> &'static str {
        match self {
            DetailTab::Info => "Lead",
            DetailTab::Calls => "Calls",
            DetailTab::History => "Status history",
            DetailTab::Script => "Script",
        }
    }
}

/// What is known of the open lead. Read-only outside this module.
#[derive(Debug, Clone)]
pub struct Detail {
    pub lead: Lead,
    pub contacts: Vec<Contact>,
    pub calls: Vec<CallLog>,
    pub statuses: Vec<StatusChange>,
    pub tab: DetailTab,
    /// A newer answer has been asked for.
    pub loading: bool,
    /// The script to read on a call to this lead, once asked for (None: none is stored).
    pub script: Option<crate::store::ScriptForCall>,
    /// How many lines of the script are scrolled past.
    pub script_scroll: u16,
}

#[derive(Debug, Clone, Default)]
pub struct OpenLead {
    detail: Option<Detail>,
}

impl OpenLead {
    pub fn detail(&self) -> Option<&Detail> {
        self.detail.as_ref()
    }

    pub fn lead(&self) -> Option<&Lead> {
        self.detail.as_ref().map(|d| &d.lead)
    }

    pub fn id(&self) -> Option<Uuid> {
        self.lead().map(|l| l.id)
    }

    pub fn is_open(&self) -> bool {
        self.detail.is_some()
    }

    /// Asks for a lead's detail; what is on screen stays, marked as loading, until it comes.
    pub fn open(&mut self, lead_id: Uuid) -> Request {
        if let Some(d) = &mut self.detail {
            d.loading = true;
        }
        Request::Detail { lead_id }
    }

    /// Shows a lead at once (as claimed) while its contacts and history load.
    pub fn show(&mut self, lead: Lead) -> Request {
        let lead_id = lead.id;
        self.detail = Some(Detail {
            lead,
            contacts: Vec::new(),
            calls: Vec::new(),
            statuses: Vec::new(),
            tab: DetailTab::Info,
            loading: true,
            script: None,
            script_scroll: 0,
        });
        Request::Detail { lead_id }
    }

    /// The open lead again, fresh from the database.
    pub fn reload(&self) -> Option<Request> {
        self.id().map(|lead_id| Request::Detail { lead_id })
    }

    pub fn close(&mut self) {
        self.detail = None;
    }

    pub fn cycle_tab(&mut self, forward: bool) {
        if let Some(d) = &mut self.detail {
            d.tab = super::cycle(&DetailTab::ALL, d.tab, forward);
        }
    }

    /// The detail arrived; the tab in front stays when it is the same lead.
    pub fn on_detail(&mut self, lead: Lead, contacts: Vec<Contact>, calls: Vec<CallLog>, statuses: Vec<StatusChange>) {
        let same = self.detail.take().filter(|d| d.lead.id == lead.id);
        let tab = same.as_ref().map_or(DetailTab::Info, |d| d.tab);
        let (script, script_scroll) = same.map_or((None, 0), |d| (d.script, d.script_scroll));
        self.detail = Some(Detail {
            lead,
            contacts,
            calls,
            statuses,
            tab,
            loading: false,
            script,
            script_scroll,
        });
    }

    /// The script for a call to the lead arrived (shown beside the lead on a tall screen, and
    /// always on its own tab).
    pub fn on_script(&mut self, lead_id: Uuid, script: Option<crate::store::ScriptForCall>) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.lead.id == lead_id) {
            d.script = script;
            d.script_scroll = 0;
        }
    }

    /// Scrolls the script, when there is one.
    pub fn scroll_script(&mut self, by: i64) -> bool {
        match self.detail.as_mut().filter(|d| d.script.is_some()) {
            Some(d) => {
                let lines = d.script.as_ref().map_or(0, |s| s.text.lines().count()) as i64;
                d.script_scroll = (i64::from(d.script_scroll) + by).clamp(0, (lines - 1).max(0)) as u16;
                true
            }
            None => false,
        }
    }

    /// The lead was changed (by this console): show the new values before the detail reloads.
    pub fn on_changed(&mut self, lead: Lead) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.lead.id == lead.id) {
            d.lead = lead;
        }
    }

    /// A lead was deleted; true when it was the open one (which then closes).
    pub fn on_deleted(&mut self, lead_id: Uuid) -> bool {
        let open = self.id() == Some(lead_id);
        if open {
            self.detail = None;
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::tests::lead;

    #[test]
    fn the_tab_in_front_stays_for_the_same_lead_only() {
        let (ada, bea) = (lead("Ada"), lead("Bea"));
        let mut open = OpenLead::default();
        assert_eq!(open.show(ada.clone()), Request::Detail { lead_id: ada.id });
        assert!(open.detail().unwrap().loading);
        open.cycle_tab(true);
        open.on_detail(ada.clone(), Vec::new(), Vec::new(), Vec::new());
        let detail = open.detail().unwrap();
        assert_eq!((detail.tab, detail.loading), (DetailTab::Calls, false));
        open.on_detail(bea.clone(), Vec::new(), Vec::new(), Vec::new());
        assert_eq!(open.detail().unwrap().tab, DetailTab::Info);
    }

    #[test]
    fn changes_and_deletions_of_other_leads_leave_it_alone() {
        let (ada, mut bea) = (lead("Ada"), lead("Bea"));
        let mut open = OpenLead::default();
        open.on_detail(ada.clone(), Vec::new(), Vec::new(), Vec::new());
        bea.company = "Elsewhere".into();
        open.on_changed(bea.clone());
        assert_eq!(open.lead().unwrap().company, ada.company);
        assert!(!open.on_deleted(bea.id));
        assert!(open.on_deleted(ada.id));
        assert!(!open.is_open());
    }
}
