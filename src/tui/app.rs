//! The console's state and how it changes. No terminal and no database here: keys and replies
//! come in, requests go out (see `request`), so every flow can be driven and checked in tests.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use uuid::Uuid;

use super::forms::{ContactForm, EditForm, FilterForm, FormResult, Outcome, OutcomeForm, StatusForm};
use super::keymap::{Action, Keymap};
use super::request::{Reply, Request};
use crate::domain::{Disposition, LeadStatus};
use crate::store::{
    ActiveCall, Agent, CallLog, Callback, Contact, EndCall, Lead, LeadCursor, LeadFilter, StartCall, StatusChange,
};

/// The change feed keeps screens current; this slower full refresh also picks up what time
/// alone changes (recycled leads becoming due, callbacks coming due).
pub const REFRESH_EVERY: Duration = Duration::seconds(30);
/// How often each console looks for locks left by consoles that died mid-call.
pub const REAP_EVERY: Duration = Duration::seconds(10);
/// How often an open call's lock is refreshed; well inside the default 60 s lock TTL.
pub const HEARTBEAT_EVERY: Duration = Duration::seconds(15);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState {
    Ready,
    OnCall,
    WrapUp,
    Paused(String),
}

impl AgentState {
    /// The state as the floor records it.
    pub fn presence(&self) -> (crate::domain::PresenceState, Option<String>) {
        use crate::domain::PresenceState;
        match self {
            AgentState::Ready => (PresenceState::Ready, None),
            AgentState::OnCall => (PresenceState::OnCall, None),
            AgentState::WrapUp => (PresenceState::WrapUp, None),
            AgentState::Paused(reason) => (PresenceState::Paused, (!reason.is_empty()).then(|| reason.clone())),
        }
    }

    pub fn label(&self) -> String {
        match self {
            AgentState::Ready => "READY".into(),
            AgentState::OnCall => "ON CALL".into(),
            AgentState::WrapUp => "WRAP-UP".into(),
            AgentState::Paused(reason) if reason.is_empty() => "PAUSED".into(),
            AgentState::Paused(reason) => format!("PAUSED: {reason}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queue,
    Detail,
    Calls,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailTab {
    Info,
    Calls,
    History,
}

impl DetailTab {
    pub const ALL: [DetailTab; 3] = [DetailTab::Info, DetailTab::Calls, DetailTab::History];

    pub fn title(self) -> &'static str {
        match self {
            DetailTab::Info => "Lead",
            DetailTab::Calls => "Calls",
            DetailTab::History => "Status history",
        }
    }
}

/// One page of leads at a time: memory stays flat however many leads there are, and moving
/// past either end loads the neighbouring page by keyset.
#[derive(Debug, Clone, Default)]
pub struct LeadList {
    pub items: Vec<Lead>,
    pub selected: usize,
    /// Where each earlier page started, to go back.
    pub previous: Vec<Option<LeadCursor>>,
    pub start: Option<LeadCursor>,
    pub next: Option<LeadCursor>,
    pub loading: bool,
    /// Select the last row when the page arrives (after paging backwards).
    select_last: bool,
    /// Keep the selected row when the page arrives (a refresh, not a move).
    keep_selection: bool,
}

#[derive(Debug, Clone)]
pub struct Detail {
    pub lead: Lead,
    pub contacts: Vec<Contact>,
    pub calls: Vec<CallLog>,
    pub statuses: Vec<StatusChange>,
    pub tab: DetailTab,
    pub loading: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CurrentCall {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub lead_name: String,
    pub phone: String,
    pub started_at: DateTime<Utc>,
    /// Set when the agent pressed end: the talk time stops there.
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub enum Modal {
    Outcome(Box<OutcomeForm>),
    Status(StatusForm),
    Edit(Box<EditForm>),
    Contact(ContactForm),
    Filter(Box<FilterForm>),
    Pause(super::forms::Field),
    ConfirmDelete(Uuid, String),
    /// A supervisor releasing a call lock: the call, whose it is, and the reason being typed.
    Release(Uuid, String, super::forms::Field),
    /// A supervisor giving a lead, or an open callback, to a named agent.
    Assign(AssignForm),
    ConfirmQuit,
    Help,
}

/// What a supervisor is giving away, and to whom (being typed).
#[derive(Debug, Clone)]
pub struct AssignForm {
    pub target: AssignTarget,
    /// The lead's name, or whose callback on which lead.
    pub what: String,
    pub agent: super::forms::Field,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignTarget {
    Lead(Uuid),
    Callback(Uuid),
}

pub use super::floor::Floor;
use super::floor::{FloorLimits, FloorRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone)]
pub struct StatusLine {
    pub text: String,
    pub level: Level,
}

#[derive(Debug, Clone, Default)]
pub struct SearchBox {
    pub input: tui_input::Input,
    /// The box has the keyboard.
    pub editing: bool,
    /// Results of the latest query, shown instead of the tab's list while a query is set.
    pub results: Option<Vec<Lead>>,
    pub selected: usize,
}

pub struct App {
    pub agent: Agent,
    /// The softphone hook, when one is configured; without it the console is a manual dialer.
    pub dial: Option<crate::dialer::DialHook>,
    /// The supervisor's console: the floor (agents, figures) in place of the lead queue.
    pub supervising: bool,
    pub floor: Option<Floor>,
    /// The selected row of the active-calls pane.
    pub call_selected: usize,
    /// Which days the supervisor's figures cover.
    pub floor_range: FloorRange,
    /// When an agent's state is marked as running long on the floor.
    pub floor_limits: FloorLimits,
    /// The selected overdue callback on the floor.
    pub floor_selected: usize,
    pub database: String,
    pub region: String,
    pub keymap: Keymap,
    pub now: DateTime<Utc>,
    pub online: bool,
    pub agent_state: AgentState,
    pub focus: Pane,
    pub tab: QueueTab,
    pub leads: LeadList,
    pub callbacks: Vec<Callback>,
    pub search: SearchBox,
    pub filter: LeadFilter,
    pub detail: Option<Detail>,
    pub active_calls: Vec<ActiveCall>,
    pub call: Option<CurrentCall>,
    pub modal: Option<Modal>,
    pub status: Option<StatusLine>,
    /// Writes the database did not take while it was away; retried until saved.
    pub pending: Vec<Request>,
    pub dispositions: Vec<Disposition>,
    pub quit: bool,
    /// A status to apply after the outcome is saved (the agent chose a different one).
    status_after_outcome: Option<LeadStatus>,
    /// The outcome form being saved, so a rejected save brings it back with what was typed.
    outcome_draft: Option<Box<OutcomeForm>>,
    /// Latest list and search requests; older answers are dropped.
    list_seq: u64,
    search_seq: u64,
    last_refresh: Option<DateTime<Utc>>,
    last_heartbeat: Option<DateTime<Utc>>,
    last_reap: Option<DateTime<Utc>>,
    /// Callbacks already announced in the status line.
    announced: std::collections::HashSet<Uuid>,
    /// The state last sent to the floor, and when (a resend is the presence heartbeat).
    published: Option<(AgentState, DateTime<Utc>)>,
}

impl App {
    pub fn new(agent: Agent, database: String, region: String, keymap: Keymap, now: DateTime<Utc>) -> App {
        App {
            agent,
            dial: None,
            supervising: false,
            floor: None,
            call_selected: 0,
            floor_range: FloorRange::default(),
            floor_limits: FloorLimits::default(),
            floor_selected: 0,
            database,
            region,
            keymap,
            now,
            online: true,
            agent_state: AgentState::Ready,
            focus: Pane::Queue,
            tab: QueueTab::Mine,
            leads: LeadList::default(),
            callbacks: Vec::new(),
            search: SearchBox::default(),
            filter: LeadFilter::default(),
            detail: None,
            active_calls: Vec::new(),
            call: None,
            modal: None,
            status: None,
            pending: Vec::new(),
            dispositions: Vec::new(),
            quit: false,
            status_after_outcome: None,
            outcome_draft: None,
            list_seq: 0,
            search_seq: 0,
            last_refresh: None,
            last_heartbeat: None,
            last_reap: None,
            published: None,
            announced: Default::default(),
        }
    }

    /// What the console asks for when it opens.
    pub fn start(&mut self) -> Vec<Request> {
        self.last_refresh = Some(self.now);
        // These run at once in the event loop; the floor view refreshes every 10 s anyway.
        let mut requests: Vec<Request> = self.floor_request().into_iter().collect();
        requests.extend([Request::Dispositions, Request::ActiveCalls]);
        requests.extend(self.publish_presence());
        requests.extend(self.reload_list());
        requests
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine {
            text: text.into(),
            level: Level::Info,
        });
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine {
            text: text.into(),
            level: Level::Warn,
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine {
            text: text.into(),
            level: Level::Error,
        });
    }

    /// The lead the keys act on: the open one, else the selected row.
    pub fn current_lead(&self) -> Option<&Lead> {
        if let Some(d) = &self.detail {
            return Some(&d.lead);
        }
        self.selected_lead()
    }

    pub fn selected_lead(&self) -> Option<&Lead> {
        match &self.search.results {
            Some(results) => results.get(self.search.selected),
            None => self.leads.items.get(self.leads.selected),
        }
    }

    fn reload_list(&mut self) -> Vec<Request> {
        self.leads.previous.clear();
        self.leads.start = None;
        self.load_page(None)
    }

    /// Reloads the page on screen where it is, keeping the selection (for live updates).
    fn refresh_list(&mut self) -> Vec<Request> {
        if self.leads.loading {
            return Vec::new();
        }
        self.leads.keep_selection = true;
        let start = self.leads.start;
        self.load_page(start)
    }

    fn load_page(&mut self, after: Option<LeadCursor>) -> Vec<Request> {
        self.leads.loading = self.tab != QueueTab::Callbacks;
        self.list_seq += 1;
        let seq = self.list_seq;
        match self.tab {
            QueueTab::Callbacks => vec![Request::Callbacks {
                agent_id: self.agent.id,
            }],
            QueueTab::Mine => vec![Request::Queue {
                seq,
                agent_id: self.agent.id,
            }],
            QueueTab::All => vec![Request::Leads {
                seq,
                filter: self.filter.clone(),
                after,
            }],
        }
    }

    // ------------------------------------------------------------------ keys

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Request> {
        if let Some(modal) = self.modal.take() {
            return self.modal_key(modal, key);
        }
        if self.search.editing {
            return self.search_key(key);
        }
        match self.keymap.action(&key) {
            Some(action) => self.act(action),
            None => Vec::new(),
        }
    }

    fn act(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Quit => {
                if self.call.is_some() {
                    self.modal = Some(Modal::ConfirmQuit);
                } else {
                    self.quit = true;
                }
                Vec::new()
            }
            Action::Help => {
                self.modal = Some(Modal::Help);
                Vec::new()
            }
            Action::ClaimNext => {
                if self.call.is_some() {
                    self.warn("finish the current call first (e)");
                    return Vec::new();
                }
                self.info("finding the next lead…");
                vec![Request::Claim {
                    agent_id: self.agent.id,
                }]
            }
            Action::Search => {
                self.search.editing = true;
                self.focus = Pane::Queue;
                Vec::new()
            }
            Action::Filter => {
                self.modal = Some(Modal::Filter(Box::new(FilterForm::new(&self.filter))));
                Vec::new()
            }
            Action::Open => match self.focus {
                Pane::Queue => self.open_selected(),
                Pane::Calls => Vec::new(),
                Pane::Detail => Vec::new(),
            },
            Action::FocusNext | Action::FocusPrev => {
                let order = [Pane::Queue, Pane::Detail, Pane::Calls];
                let panes: Vec<Pane> = order
                    .into_iter()
                    .filter(|p| *p != Pane::Detail || self.detail.is_some())
                    .collect();
                let at = panes.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if action == Action::FocusNext {
                    1
                } else {
                    panes.len() - 1
                };
                self.focus = panes[(at + step) % panes.len()];
                Vec::new()
            }
            Action::Down => self.move_selection(1),
            Action::Up => self.move_selection(-1),
            Action::PageDown => self.move_selection(10),
            Action::PageUp => self.move_selection(-10),
            Action::Top => self.move_selection(i64::MIN / 2),
            Action::Bottom => self.move_selection(i64::MAX / 2),
            Action::Back => {
                if self.search.results.is_some() {
                    self.search = SearchBox::default();
                } else if self.detail.is_some() && self.call.is_none() {
                    self.detail = None;
                    self.focus = Pane::Queue;
                } else if self.focus != Pane::Queue {
                    self.focus = Pane::Queue;
                }
                Vec::new()
            }
            Action::NextTab | Action::PrevTab => {
                let forward = action == Action::NextTab;
                if self.supervising && self.focus == Pane::Queue {
                    // On the floor, the tabs step the figures through time.
                    self.floor_range.step(!forward);
                    return self.floor_request().into_iter().collect();
                }
                if self.focus == Pane::Detail {
                    if let Some(d) = &mut self.detail {
                        d.tab = cycle(&DetailTab::ALL, d.tab, forward);
                    }
                    Vec::new()
                } else {
                    self.tab = cycle(&QueueTab::ALL, self.tab, forward);
                    self.search = SearchBox::default();
                    self.reload_list()
                }
            }
            Action::StartCall => self.start_call(),
            Action::EndCall => self.end_call(),
            Action::ChangeStatus => {
                if let Some(lead) = self.current_lead() {
                    self.modal = Some(Modal::Status(StatusForm::new(lead.id, lead.status)));
                }
                Vec::new()
            }
            Action::EditLead => {
                if let Some(lead) = self.current_lead() {
                    self.modal = Some(Modal::Edit(Box::new(EditForm::new(lead))));
                }
                Vec::new()
            }
            Action::AddContact => {
                if let Some(lead) = self.current_lead() {
                    self.modal = Some(Modal::Contact(ContactForm::new(lead.id)));
                }
                Vec::new()
            }
            Action::DeleteLead => {
                match self.current_lead() {
                    Some(lead) if self.call.as_ref().is_some_and(|c| c.lead_id == lead.id) => {
                        self.warn("this lead is on your call; end the call first")
                    }
                    Some(lead) => self.modal = Some(Modal::ConfirmDelete(lead.id, lead.full_name())),
                    None => {}
                }
                Vec::new()
            }
            Action::TogglePause => {
                match &self.agent_state {
                    AgentState::Paused(_) => {
                        self.agent_state = AgentState::Ready;
                        self.info("ready");
                    }
                    AgentState::Ready => {
                        self.modal = Some(Modal::Pause(super::forms::Field::new("Reason", "reason", "")));
                    }
                    _ => self.warn("finish the call before pausing"),
                }
                Vec::new()
            }
            Action::ReleaseLock => {
                if !self.agent.role.can_force() {
                    self.warn("only supervisors release other agents' calls");
                } else if self.focus != Pane::Calls {
                    self.warn("select a call in the active-calls pane first (Tab)");
                } else if let Some(call) = self.active_calls.get(self.call_selected) {
                    let field = super::forms::Field::new("Reason", "reason", "");
                    self.modal = Some(Modal::Release(call.call_id, call.agent_name.clone(), field));
                }
                Vec::new()
            }
            Action::ToggleFloor => {
                if self.agent.role.can_force() {
                    self.supervising = !self.supervising;
                    self.focus = Pane::Queue;
                    self.floor_request().into_iter().collect()
                } else {
                    self.warn("the floor view is for supervisors");
                    Vec::new()
                }
            }
            Action::WidenRange => {
                if self.supervising {
                    self.floor_range.widen();
                }
                self.floor_request().into_iter().collect()
            }
            Action::Assign => {
                self.open_assign();
                Vec::new()
            }
            Action::Refresh => {
                let mut requests = self.reload_list();
                requests.push(Request::ActiveCalls);
                if let Some(d) = &self.detail {
                    requests.push(Request::Detail { lead_id: d.lead.id });
                }
                requests
            }
        }
    }

    fn open_selected(&mut self) -> Vec<Request> {
        let lead_id = match self.tab {
            QueueTab::Callbacks if self.search.results.is_none() => {
                self.callbacks.get(self.leads.selected).map(|c| c.lead_id)
            }
            _ => self.selected_lead().map(|l| l.id),
        };
        match lead_id {
            Some(id) => self.open_lead(id),
            None => Vec::new(),
        }
    }

    fn open_lead(&mut self, lead_id: Uuid) -> Vec<Request> {
        if let Some(d) = &mut self.detail {
            d.loading = true;
        }
        self.focus = Pane::Detail;
        vec![Request::Detail { lead_id }]
    }

    fn move_selection(&mut self, by: i64) -> Vec<Request> {
        match self.focus {
            Pane::Calls => {
                self.call_selected = step(self.call_selected, by, self.active_calls.len());
                Vec::new()
            }
            Pane::Detail => Vec::new(),
            Pane::Queue if self.supervising => {
                let len = self.floor.as_ref().map_or(0, |f| f.overdue.len());
                self.floor_selected = step(self.floor_selected, by, len);
                Vec::new()
            }
            Pane::Queue => {
                if let Some(results) = &self.search.results {
                    self.search.selected = step(self.search.selected, by, results.len());
                    return Vec::new();
                }
                let len = if self.tab == QueueTab::Callbacks {
                    self.callbacks.len()
                } else {
                    self.leads.items.len()
                };
                let wanted = self.leads.selected as i64 + by;
                // Moving past the ends of the page pages by keyset (j/k and PgUp/PgDn only).
                if by.abs() <= 10 && self.tab != QueueTab::Callbacks && !self.leads.loading {
                    if wanted >= len as i64 && self.leads.next.is_some() {
                        self.leads.previous.push(self.leads.start);
                        let after = self.leads.next;
                        self.leads.start = after;
                        return self.load_page(after);
                    }
                    if wanted < 0 && !self.leads.previous.is_empty() {
                        let start = self.leads.previous.pop().flatten();
                        self.leads.start = start;
                        self.leads.select_last = true;
                        return self.load_page(start);
                    }
                }
                self.leads.selected = step(self.leads.selected, by, len);
                Vec::new()
            }
        }
    }

    fn search_key(&mut self, key: KeyEvent) -> Vec<Request> {
        match key.code {
            KeyCode::Esc => {
                self.search = SearchBox::default();
                Vec::new()
            }
            KeyCode::Enter | KeyCode::Down | KeyCode::Tab => {
                self.search.editing = false;
                if key.code == KeyCode::Enter && self.search.results.as_ref().is_some_and(|r| r.len() == 1) {
                    return self.open_selected();
                }
                Vec::new()
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
                    return Vec::new();
                }
                if text.trim().is_empty() {
                    self.search.results = None;
                    return Vec::new();
                }
                self.search_seq += 1;
                vec![Request::Search {
                    seq: self.search_seq,
                    text,
                    filter: self.filter.clone(),
                }]
            }
        }
    }

    fn start_call(&mut self) -> Vec<Request> {
        if self.call.is_some() {
            self.warn("already on a call; end it with e");
            return Vec::new();
        }
        if let AgentState::Paused(_) = self.agent_state {
            self.warn("you are paused; press p to be ready");
            return Vec::new();
        }
        let Some(lead) = self.current_lead() else {
            self.warn("open a lead first (Enter, or n for the next one)");
            return Vec::new();
        };
        let request = StartCall {
            lead_id: lead.id,
            agent_id: self.agent.id,
            from_number: None,
        };
        self.info(format!("starting a call to {}…", lead.full_name()));
        vec![Request::StartCall(request)]
    }

    fn end_call(&mut self) -> Vec<Request> {
        let Some(call) = &mut self.call else {
            self.warn("no call in progress");
            return Vec::new();
        };
        let ended_at = *call.ended_at.get_or_insert(self.now);
        let duration = (ended_at - call.started_at).num_seconds().max(0) as i32;
        let form = OutcomeForm::new(
            call.call_id,
            call.lead_id,
            duration,
            self.dispositions.clone(),
            self.now,
        );
        self.agent_state = AgentState::WrapUp;
        self.modal = Some(Modal::Outcome(Box::new(form)));
        Vec::new()
    }

    fn modal_key(&mut self, modal: Modal, key: KeyEvent) -> Vec<Request> {
        match modal {
            Modal::Help => Vec::new(),
            Modal::ConfirmQuit => {
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.quit = true;
                }
                Vec::new()
            }
            Modal::ConfirmDelete(lead_id, _) => {
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    return vec![Request::DeleteLead {
                        lead_id,
                        agent_id: self.agent.id,
                    }];
                }
                self.info("not deleted");
                Vec::new()
            }
            Modal::Release(call_id, agent, mut field) => {
                match key.code {
                    KeyCode::Esc => {}
                    KeyCode::Enter if field.value().trim().is_empty() => {
                        field.error = Some("say why".into());
                        self.modal = Some(Modal::Release(call_id, agent, field));
                    }
                    KeyCode::Enter => {
                        let reason = field.value().trim().to_string();
                        return vec![Request::ForceRelease {
                            call_id,
                            by: self.agent.id,
                            reason,
                        }];
                    }
                    _ => {
                        field.type_key(&key);
                        self.modal = Some(Modal::Release(call_id, agent, field));
                    }
                }
                Vec::new()
            }
            Modal::Assign(mut form) => {
                match key.code {
                    KeyCode::Esc => {}
                    KeyCode::Enter if form.agent.value().trim().is_empty() => {
                        form.agent.error = Some("whose? type an agent's name".into());
                        self.modal = Some(Modal::Assign(form));
                    }
                    KeyCode::Enter => {
                        let agent_name = form.agent.value().trim().to_string();
                        let by = self.agent.id;
                        return vec![match form.target {
                            AssignTarget::Lead(lead_id) => Request::Assign {
                                lead_id,
                                agent_name,
                                by,
                            },
                            AssignTarget::Callback(callback_id) => Request::HandCallback {
                                callback_id,
                                agent_name,
                                by,
                            },
                        }];
                    }
                    _ => {
                        form.agent.type_key(&key);
                        self.modal = Some(Modal::Assign(form));
                    }
                }
                Vec::new()
            }
            Modal::Pause(mut field) => {
                match key.code {
                    KeyCode::Esc => {}
                    KeyCode::Enter => {
                        let reason = field.value().trim().to_string();
                        self.agent_state = AgentState::Paused(reason);
                        self.info("paused; press p when ready");
                    }
                    _ => {
                        field.type_key(&key);
                        self.modal = Some(Modal::Pause(field));
                    }
                }
                Vec::new()
            }
            Modal::Outcome(mut form) => match form.key(&key) {
                FormResult::Editing => {
                    self.modal = Some(Modal::Outcome(form));
                    Vec::new()
                }
                FormResult::Cancelled => {
                    // Back to the call: the outcome is not recorded until saved.
                    self.agent_state = AgentState::OnCall;
                    if let Some(call) = &mut self.call {
                        call.ended_at = None;
                    }
                    Vec::new()
                }
                FormResult::Done(outcome) => {
                    let requests = self.save_outcome(&form, outcome);
                    self.outcome_draft = Some(form);
                    requests
                }
            },
            Modal::Status(mut form) => match form.key(&key) {
                FormResult::Editing => {
                    self.modal = Some(Modal::Status(form));
                    Vec::new()
                }
                FormResult::Cancelled => Vec::new(),
                FormResult::Done((status, reason)) => {
                    vec![Request::SetStatus {
                        lead_id: form.lead_id,
                        status,
                        reason,
                        agent_id: self.agent.id,
                    }]
                }
            },
            Modal::Edit(mut form) => match form.key(&key, &self.region) {
                FormResult::Editing => {
                    if form.has_errors() {
                        self.error("the lead has errors; see the marked fields");
                    }
                    self.modal = Some(Modal::Edit(form));
                    Vec::new()
                }
                FormResult::Cancelled => Vec::new(),
                FormResult::Done(fields) => {
                    vec![Request::SaveLead {
                        lead_id: form.lead_id,
                        fields: Box::new(fields),
                        agent_id: self.agent.id,
                    }]
                }
            },
            Modal::Contact(mut form) => match form.key(&key) {
                FormResult::Editing => {
                    self.modal = Some(Modal::Contact(form));
                    Vec::new()
                }
                FormResult::Cancelled => Vec::new(),
                FormResult::Done(contact) => {
                    vec![Request::AddContact {
                        lead_id: form.lead_id,
                        contact,
                        region: self.region.clone(),
                    }]
                }
            },
            Modal::Filter(mut form) => match form.key(&key, self.agent.id) {
                FormResult::Editing => {
                    self.modal = Some(Modal::Filter(form));
                    Vec::new()
                }
                FormResult::Cancelled => Vec::new(),
                FormResult::Done(filter) => {
                    self.filter = filter;
                    self.search = SearchBox::default();
                    self.reload_list()
                }
            },
        }
    }

    fn save_outcome(&mut self, form: &OutcomeForm, outcome: Outcome) -> Vec<Request> {
        self.status_after_outcome = outcome.status;
        self.info("saving the outcome…");
        vec![Request::EndCall(EndCall {
            call_id: form.call_id,
            agent_id: self.agent.id,
            disposition: outcome.disposition,
            duration_s: Some(form.duration_s),
            notes: outcome.notes,
            recording_url: None,
            callback_at: outcome.callback_at,
            force: false,
        })]
    }

    // ------------------------------------------------------------------ time

    /// Called about once a second: moves the clock and asks for periodic work.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Request> {
        self.now = now;
        let mut requests = Vec::new();
        if self.last_refresh.is_none_or(|t| now - t >= REFRESH_EVERY) {
            self.last_refresh = Some(now);
            requests.push(Request::ActiveCalls);
            requests.extend(self.refresh_list());
        }
        requests.extend(self.publish_presence());
        if self.last_reap.is_none_or(|t| now - t >= REAP_EVERY) {
            self.last_reap = Some(now);
            requests.push(Request::ReapStaleLocks {
                agent_id: self.agent.id,
            });
            requests.extend(self.floor_request());
            // Also how a callback coming due is noticed.
            requests.push(Request::Callbacks {
                agent_id: self.agent.id,
            });
        }
        // The lock is held until the outcome is saved, so wrap-up keeps it alive too.
        if let Some(call) = &self.call {
            if self.last_heartbeat.is_none_or(|t| now - t >= HEARTBEAT_EVERY) {
                self.last_heartbeat = Some(now);
                requests.push(Request::Heartbeat {
                    call_id: call.call_id,
                    agent_id: self.agent.id,
                });
            }
        }
        requests
    }

    // ------------------------------------------------------------------ replies

    pub fn on_reply(&mut self, reply: Reply) -> Vec<Request> {
        if !matches!(reply, Reply::Failed { .. } | Reply::FeedDown(_)) && !self.online {
            self.online = true;
            self.info("database connection is back");
        }
        match reply {
            Reply::Ok => Vec::new(),
            Reply::Changes(changes) => {
                // Each successful poll also says the database answers: retry kept writes.
                let mut requests = std::mem::take(&mut self.pending);
                requests.extend(self.on_changes(&changes));
                requests
            }
            Reply::FeedDown(message) => {
                if self.online {
                    self.online = false;
                    self.warn(format!("database unreachable: {message}"));
                }
                Vec::new()
            }
            Reply::Leads { seq, after, page } => {
                if seq != self.list_seq {
                    // An older page answer: a newer request is on its way.
                    return Vec::new();
                }
                self.leads.loading = false;
                self.leads.start = after;
                self.leads.next = page.next;
                self.leads.items = page.items;
                let last = self.leads.items.len().saturating_sub(1);
                self.leads.selected = if std::mem::take(&mut self.leads.select_last) {
                    last
                } else if std::mem::take(&mut self.leads.keep_selection) {
                    self.leads.selected.min(last)
                } else {
                    0
                };
                Vec::new()
            }
            Reply::Queue { seq, leads } => {
                if seq == self.list_seq {
                    self.leads.loading = false;
                    self.leads.keep_selection = false;
                    self.leads.next = None;
                    self.leads.items = leads;
                    self.leads.selected = self.leads.selected.min(self.leads.items.len().saturating_sub(1));
                }
                Vec::new()
            }
            Reply::Search { seq, leads } => {
                if seq == self.search_seq && !self.search.input.value().trim().is_empty() {
                    self.search.selected = 0;
                    self.search.results = Some(leads);
                }
                Vec::new()
            }
            Reply::Callbacks(callbacks) => {
                let due: Vec<&Callback> = callbacks
                    .iter()
                    .filter(|c| c.due_at <= self.now && !self.announced.contains(&c.id))
                    .collect();
                if let Some(first) = due.first() {
                    let more = if due.len() > 1 {
                        format!(" (+{} more)", due.len() - 1)
                    } else {
                        String::new()
                    };
                    let text = format!(
                        "callback due: {}{more}; press {} to take it",
                        crate::display::printable(&first.lead_name),
                        self.keymap.key_for(Action::ClaimNext)
                    );
                    self.warn(text);
                    self.announced.extend(due.iter().map(|c| c.id));
                }
                self.callbacks = callbacks;
                if self.tab == QueueTab::Callbacks {
                    self.leads.selected = self.leads.selected.min(self.callbacks.len().saturating_sub(1));
                }
                Vec::new()
            }
            Reply::Claimed(Some(claim)) => {
                let due = if claim.source == crate::store::ClaimSource::Callback {
                    " (callback due)"
                } else {
                    ""
                };
                self.info(format!("next: {}{due}; press c to call", claim.lead.full_name()));
                let lead_id = claim.lead.id;
                self.detail = Some(Detail {
                    lead: claim.lead,
                    contacts: Vec::new(),
                    calls: Vec::new(),
                    statuses: Vec::new(),
                    tab: DetailTab::Info,
                    loading: true,
                });
                let mut requests = self.open_lead(lead_id);
                if self.tab == QueueTab::Mine {
                    requests.extend(self.reload_list());
                }
                requests
            }
            Reply::Claimed(None) => {
                self.warn("no lead can be called right now (all claimed, called recently, or outside calling hours)");
                Vec::new()
            }
            Reply::Detail {
                lead,
                contacts,
                calls,
                statuses,
            } => {
                let tab = self
                    .detail
                    .as_ref()
                    .filter(|d| d.lead.id == lead.id)
                    .map(|d| d.tab)
                    .unwrap_or(DetailTab::Info);
                self.detail = Some(Detail {
                    lead: *lead,
                    contacts,
                    calls,
                    statuses,
                    tab,
                    loading: false,
                });
                Vec::new()
            }
            Reply::ActiveCalls(calls) => {
                self.active_calls = calls;
                self.call_selected = self.call_selected.min(self.active_calls.len().saturating_sub(1));
                Vec::new()
            }
            Reply::Dispositions(list) => {
                self.dispositions = list;
                Vec::new()
            }
            Reply::CallStarted(started) => {
                let lead_name = self.current_lead().map(|l| l.full_name()).unwrap_or_default();
                self.info(format!(
                    "on the call: dial {}",
                    crate::domain::phone::format_international(&started.phone_number)
                ));
                self.call = Some(CurrentCall {
                    call_id: started.call_id,
                    lead_id: started.lead_id,
                    lead_name,
                    phone: started.phone_number.clone(),
                    started_at: started.started_at,
                    ended_at: None,
                });
                self.agent_state = AgentState::OnCall;
                self.last_heartbeat = Some(self.now);
                let mut requests = vec![
                    Request::ActiveCalls,
                    Request::Detail {
                        lead_id: started.lead_id,
                    },
                ];
                requests.extend(self.hook(&started.phone_number, started.lead_id, started.call_id, false));
                requests
            }
            Reply::Refused(refusal) => {
                self.error(format!("cannot call: {refusal}"));
                Vec::new()
            }
            Reply::HeartbeatLost { call_id } => {
                if self.call.as_ref().is_some_and(|c| c.call_id == call_id) {
                    self.error("the call lock expired (no heartbeat reached the database); record the outcome anyway");
                }
                Vec::new()
            }
            Reply::CallEnded(ended) => {
                let phone = self.call.as_ref().map(|c| c.phone.clone()).unwrap_or_default();
                let hangup = self.hook(&phone, ended.lead_id, ended.call_id, true);
                self.call = None;
                self.outcome_draft = None;
                self.agent_state = AgentState::Ready;
                self.info(format!(
                    "saved: {} — lead is {}",
                    ended.disposition,
                    ended.new_status.label()
                ));
                let mut requests = vec![Request::ActiveCalls, Request::Detail { lead_id: ended.lead_id }];
                if let Some(status) = self.status_after_outcome.take().filter(|s| *s != ended.new_status) {
                    requests.push(Request::SetStatus {
                        lead_id: ended.lead_id,
                        status,
                        reason: Some("chosen with the call outcome".into()),
                        agent_id: self.agent.id,
                    });
                }
                requests.extend(self.reload_list());
                requests.extend(hangup);
                requests
            }
            Reply::LeadChanged { lead, message } => {
                self.info(message);
                let lead_id = lead.id;
                if let Some(d) = &mut self.detail {
                    if d.lead.id == lead_id {
                        d.lead = *lead;
                    }
                }
                let mut requests = vec![Request::Detail { lead_id }];
                requests.extend(self.reload_list());
                requests
            }
            Reply::Hooked { hangup, error } => {
                if let Some(error) = error {
                    let what = if hangup { "hang-up" } else { "dialling" };
                    self.error(format!("{what} failed: {error} (noted on the call; dial by hand)"));
                }
                Vec::new()
            }
            Reply::Floor {
                presence,
                figures,
                overdue,
            } => {
                self.floor_selected = self.floor_selected.min(overdue.len().saturating_sub(1));
                self.floor = Some(Floor {
                    presence,
                    figures: *figures,
                    overdue,
                });
                Vec::new()
            }
            Reply::Assigned(message) => {
                self.info(message);
                let mut requests = self.refresh_list();
                requests.extend(self.floor_request());
                if let Some(d) = &self.detail {
                    requests.push(Request::Detail { lead_id: d.lead.id });
                }
                requests
            }
            Reply::Released(lock) => {
                self.info(format!("call {} released; recorded as abandoned", lock.call_id));
                let mut requests = vec![Request::ActiveCalls];
                requests.extend(self.floor_request());
                requests
            }
            Reply::Reaped(reaped) => {
                if !reaped.is_empty() {
                    self.info(format!(
                        "released {} stale call lock(s) left by a console that stopped",
                        reaped.len()
                    ));
                }
                Vec::new()
            }
            Reply::ContactAdded(contact) => {
                self.info(format!("contact added: {}", contact.value));
                vec![Request::Detail {
                    lead_id: contact.lead_id,
                }]
            }
            Reply::LeadDeleted { lead_id } => {
                self.info("lead deleted (it can be restored from the command line)");
                if self.detail.as_ref().is_some_and(|d| d.lead.id == lead_id) {
                    self.detail = None;
                    self.focus = Pane::Queue;
                }
                self.reload_list()
            }
            Reply::Rejected { what, message, request } => {
                if let (Request::EndCall(_), Some(mut form)) = (*request, self.outcome_draft.take()) {
                    // The outcome form comes back with what was typed.
                    form.error = Some(message.clone());
                    self.agent_state = AgentState::WrapUp;
                    self.modal = Some(Modal::Outcome(form));
                }
                self.error(format!("{what}: {message}"));
                Vec::new()
            }
            Reply::Failed { what, message, request } => {
                self.online = false;
                self.leads.loading = false;
                if request.must_survive() {
                    if !self.pending.contains(&request) {
                        self.pending.push(*request);
                    }
                    self.warn(format!(
                        "database unreachable while {what}; kept, will save when it is back"
                    ));
                } else {
                    self.warn(format!("database unreachable while {what}: {message}"));
                }
                Vec::new()
            }
        }
    }

    /// Refreshes only what the changes touch: the floor's calls and lock badges, the open lead,
    /// the list on screen.
    fn on_changes(&mut self, changes: &[crate::store::Change]) -> Vec<Request> {
        let mut requests = Vec::new();
        if changes.is_empty() {
            return requests;
        }
        if changes.iter().any(|c| c.kind == "active_call") {
            requests.push(Request::ActiveCalls);
            requests.extend(self.floor_request());
        }
        if let Some(detail) = &self.detail {
            if changes.iter().any(|c| c.lead_id == detail.lead.id) {
                requests.push(Request::Detail {
                    lead_id: detail.lead.id,
                });
            }
        }
        if self.search.results.is_none() {
            requests.extend(self.refresh_list());
        }
        requests
    }

    /// Sends the agent's state when it changed, and again as a heartbeat so the floor can tell a
    /// console that vanished (it reads as offline after the lock TTL).
    pub fn publish_presence(&mut self) -> Vec<Request> {
        let due = match &self.published {
            Some((state, at)) => *state != self.agent_state || self.now - *at >= HEARTBEAT_EVERY,
            None => true,
        };
        if !due {
            return Vec::new();
        }
        self.published = Some((self.agent_state.clone(), self.now));
        let (state, reason) = self.agent_state.presence();
        vec![Request::Presence {
            agent_id: self.agent.id,
            state,
            reason,
        }]
    }

    /// A supervisor gives the selected overdue callback (on the floor) or the current lead (in
    /// the lead views) to an agent they name.
    fn open_assign(&mut self) {
        if !self.agent.role.can_force() {
            return self.warn("only supervisors assign leads and hand callbacks on");
        }
        let target = if self.supervising {
            let callback = self.floor.as_ref().and_then(|f| f.overdue.get(self.floor_selected));
            match callback {
                Some(cb) => Some((
                    AssignTarget::Callback(cb.id),
                    format!("{}'s callback to {}", cb.agent_name, cb.lead_name),
                )),
                None => return self.warn("no overdue callback selected; F shows the leads to assign one"),
            }
        } else {
            self.current_lead()
                .map(|lead| (AssignTarget::Lead(lead.id), lead.full_name()))
        };
        if let Some((target, what)) = target {
            self.modal = Some(Modal::Assign(AssignForm {
                target,
                what,
                agent: super::forms::Field::new("Agent", "agent name", ""),
            }));
        }
    }

    fn floor_request(&self) -> Option<Request> {
        self.supervising.then(|| {
            let (from, to) = self.floor_range.bounds(self.now);
            Request::Floor { from, to }
        })
    }

    /// The configured hook for this call, if any.
    fn hook(&self, phone: &str, lead_id: Uuid, call_id: Uuid, hangup: bool) -> Option<Request> {
        let hook = self.dial.as_ref()?;
        let args = if hangup { &hook.hangup } else { &hook.command };
        if args.is_empty() {
            return None;
        }
        let call = crate::dialer::CallInfo {
            number: phone.to_string(),
            lead_id: lead_id.to_string(),
            agent: self.agent.name.clone(),
        };
        Some(Request::Hook {
            call_id,
            args: crate::dialer::expand(args, &call),
            hangup,
        })
    }

    /// Seconds the current call has lasted (stops when the agent pressed end).
    pub fn call_seconds(&self) -> Option<i64> {
        self.call
            .as_ref()
            .map(|c| (c.ended_at.unwrap_or(self.now) - c.started_at).num_seconds().max(0))
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let at = all.iter().position(|x| *x == current).unwrap_or(0);
    let next = if forward {
        (at + 1) % all.len()
    } else {
        (at + all.len() - 1) % all.len()
    };
    all[next]
}

fn step(at: usize, by: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (at as i64).saturating_add(by).clamp(0, len as i64 - 1) as usize
}
