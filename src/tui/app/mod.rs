//! The console's state and how it changes. No terminal and no database here: keys and replies
//! come in, requests go out (see `request`), so every flow can be driven and checked in tests.
//!
//! The state is split by what it serves, each part with its own update: `lists` (the tabs,
//! pages, search and filter), `lead` (the open lead), `call` (the agent's state, their call and
//! its outcome), `active_calls` (every call on the floor), the supervisor's `FloorView`,
//! `modal` (the dialog on screen), `status` (the status line) and `connection` (whether the
//! database answers, and the writes kept until it does). `App` routes keys and replies to the
//! parts and does what spans several of them.

mod active_calls;
mod announce;
mod call;
mod connection;
mod lead;
mod lists;
mod live;
mod modal;
mod status;

use chrono::{DateTime, Duration, Utc};
use crossterm::event::KeyEvent;
use uuid::Uuid;

pub use self::active_calls::ActiveCalls;
pub use self::call::{AgentState, CallDesk, CurrentCall, NotNow, PhoneCall, Stage, Stepped};
pub use self::connection::Connection;
pub use self::lead::{Detail, DetailTab, OpenLead};
pub use self::lists::{Lists, QueueTab, SearchBox, SearchKey};
pub use self::modal::{AssignForm, AssignTarget, Decided, MergeForm, Modal};
pub use self::status::{About, Level, Message, Status, Subjects};
pub use super::floor::{Floor, FloorLimits, FloorView};
use super::forms::{ContactForm, EditForm, Field, FilterForm, StatusForm};
use super::keymap::{Action, Keymap};
use super::request::{PhoneEvent, Reply, Request};
use crate::dialer::{BaresipSettings, DialHook};
use crate::domain::authority::{authorize, Permission};
use crate::domain::{Disposition, Policy};
use crate::store::{Agent, Change, Lead};

/// The change feed keeps screens current; this slower full refresh also picks up what time
/// alone changes (recycled leads becoming due, callbacks coming due).
pub const REFRESH_EVERY: Duration = Duration::seconds(30);
/// How often each console looks for locks left by consoles that died mid-call.
pub const REAP_EVERY: Duration = Duration::seconds(10);
/// How often an open call's lock is refreshed; well inside the default 60 s lock TTL.
pub const HEARTBEAT_EVERY: Duration = Duration::seconds(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queue,
    Detail,
    Calls,
}

pub struct App {
    agent: Agent,
    /// Where the data lives, as shown in the header (passwords redacted).
    database: String,
    /// Country for phone numbers typed without one.
    region: String,
    keymap: Keymap,
    /// The softphone hook, when one is configured; without it the console is a manual dialer.
    dial: Option<DialHook>,
    /// baresip, when the console dials through it (calls then follow its progress).
    softphone: Option<BaresipSettings>,
    now: DateTime<Utc>,
    focus: Pane,
    lists: Lists,
    lead: OpenLead,
    desk: CallDesk,
    calls: ActiveCalls,
    floor: FloorView,
    modal: Option<Modal>,
    status: Status,
    connection: Connection,
    dispositions: Vec<Disposition>,
    /// The floor's calling hours and default zone, for what the console says about times.
    policy: Policy,
    /// Whether the connection is encrypted, once the database has said (None until then).
    security: Option<crate::store::target::ConnectionSecurity>,
    /// The checkout this database is a copy of, when it is an offline copy.
    offline_copy: Option<Box<crate::store::offline::Checkout>>,
    /// How a copy reaches its floor from this machine, when it can.
    floor_link: Option<crate::offline_link::FloorLink>,
    announcer: announce::Announcer,
    last_refresh: Option<DateTime<Utc>>,
    last_reap: Option<DateTime<Utc>>,
    /// Re-reads of the floor's active calls and of the list on screen that changes ask for.
    live_calls: live::Throttle,
    live_list: live::Throttle,
    quit: bool,
}

impl App {
    pub fn new(agent: Agent, database: String, region: String, keymap: Keymap, now: DateTime<Utc>) -> App {
        App {
            lists: Lists::new(agent.id),
            desk: CallDesk::new(agent.id),
            agent,
            database,
            region,
            keymap,
            dial: None,
            softphone: None,
            now,
            focus: Pane::Queue,
            lead: OpenLead::default(),
            calls: ActiveCalls::default(),
            floor: FloorView::default(),
            modal: None,
            status: Status::default(),
            connection: Connection::default(),
            dispositions: Vec::new(),
            policy: Policy::default(),
            security: None,
            offline_copy: None,
            floor_link: None,
            announcer: Default::default(),
            last_refresh: None,
            last_reap: None,
            live_calls: live::Throttle::new(live::CALLS_GAP),
            live_list: live::Throttle::new(live::LIST_GAP),
            quit: false,
        }
    }

    /// The supervisor's console: the floor (agents, figures) in place of the lead queue.
    pub fn supervising(mut self, supervising: bool, limits: FloorLimits) -> App {
        self.floor = FloorView::new(supervising, limits);
        self
    }

    /// Dials through this hook from now on (None: the agent dials by hand).
    pub fn set_dial(&mut self, dial: Option<DialHook>) {
        self.dial = dial;
    }

    /// Dials through baresip from now on (None: the hook, or by hand).
    pub fn set_softphone(&mut self, softphone: Option<BaresipSettings>) {
        self.softphone = softphone;
    }

    /// Whether calls are dialled through baresip.
    pub fn has_softphone(&self) -> bool {
        self.softphone.is_some()
    }

    /// What the console asks for when it opens.
    pub fn start(&mut self) -> Vec<Request> {
        self.last_refresh = Some(self.now);
        // These run at once in the event loop; the floor view refreshes every 10 s anyway.
        let mut requests: Vec<Request> = self.floor_request().into_iter().collect();
        requests.extend([
            Request::Dispositions,
            Request::Policy,
            Request::Security,
            Request::OfflineCopy,
            Request::ActiveCalls,
        ]);
        requests.extend(self.publish_presence());
        requests.extend(self.lists.reload());
        requests
    }

    // ------------------------------------------------------------------ reading

    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// How the connection is protected, once the database has said.
    pub fn security(&self) -> Option<crate::store::target::ConnectionSecurity> {
        self.security
    }

    /// How a copy reaches its floor from here (a server session, or a floor database).
    pub fn set_floor_link(&mut self, link: Option<crate::offline_link::FloorLink>) {
        self.floor_link = link;
    }

    /// The checkout this database is a copy of, when it is an offline copy.
    pub fn offline_copy(&self) -> Option<&crate::store::offline::Checkout> {
        self.offline_copy.as_deref()
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn focus(&self) -> Pane {
        self.focus
    }

    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// The open lead, with its contacts and history.
    pub fn open_lead(&self) -> Option<&Detail> {
        self.lead.detail()
    }

    pub fn agent_state(&self) -> &AgentState {
        self.desk.state()
    }

    /// This agent's call in progress.
    pub fn call(&self) -> Option<&CurrentCall> {
        self.desk.call()
    }

    /// Seconds the current call has lasted (stops when the agent pressed end).
    pub fn call_seconds(&self) -> Option<i64> {
        self.desk.seconds(self.now)
    }

    /// Every call in progress on the floor.
    pub fn active_calls(&self) -> &ActiveCalls {
        &self.calls
    }

    pub fn floor_view(&self) -> &FloorView {
        &self.floor
    }

    pub fn is_supervising(&self) -> bool {
        self.floor.supervising()
    }

    pub fn modal(&self) -> Option<&Modal> {
        self.modal.as_ref()
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn online(&self) -> bool {
        self.connection.online()
    }

    /// Writes the database did not take while it was away; retried until saved.
    pub fn pending(&self) -> &[Request] {
        self.connection.pending()
    }

    pub fn dispositions(&self) -> &[Disposition] {
        &self.dispositions
    }

    /// The floor's calling hours and default zone.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Whether this console's agent may do what needs `permission` (the domain decides).
    pub fn may(&self, permission: Permission) -> bool {
        authorize(&self.agent.name, self.agent.role, permission).is_ok()
    }

    /// An outcome as agents know it ("No answer"), not its code.
    pub fn outcome_label(&self, code: &str) -> String {
        self.dispositions
            .iter()
            .find(|d| d.code == code)
            .map_or_else(|| code.to_string(), |d| d.label.clone())
    }

    /// The agent asked to leave.
    pub fn quitting(&self) -> bool {
        self.quit
    }

    /// The lead the keys act on: the open one, else the selected row.
    pub fn current_lead(&self) -> Option<&Lead> {
        self.lead.lead().or_else(|| self.lists.selected_lead())
    }

    /// What status-line messages can be about right now.
    fn subjects(&self) -> Subjects {
        Subjects {
            lead: self.current_lead().map(|l| l.id),
            call: self.desk.call().map(|c| c.call_id),
            form: self.modal.is_some(),
        }
    }

    // ------------------------------------------------------------------ keys

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Request> {
        let before = self.subjects();
        let requests = self.key(key);
        self.status.follow(before, self.subjects());
        requests
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Request> {
        if let Some(modal) = self.modal.take() {
            return self.modal_key(modal, key);
        }
        if self.lists.search().editing() {
            return match self.lists.search_key(key) {
                SearchKey::Requests(requests) => requests,
                SearchKey::OpenSelected => self.open_selected(),
            };
        }
        match self.keymap.action(&key) {
            Some(action) => self.act(action),
            None => Vec::new(),
        }
    }

    fn act(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Quit if self.desk.on_call() => self.show(Modal::ConfirmQuit),
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => self.show(Modal::Help),
            Action::ClaimNext => self.claim_next(),
            Action::Search => {
                self.lists.begin_search();
                self.focus = Pane::Queue;
                Vec::new()
            }
            Action::Filter => self.show(Modal::Filter(Box::new(FilterForm::new(self.lists.filter())))),
            Action::Open if self.focus == Pane::Queue => self.open_selected(),
            Action::Open => Vec::new(),
            Action::FocusNext | Action::FocusPrev => {
                self.cycle_focus(action == Action::FocusNext);
                Vec::new()
            }
            Action::Down => self.move_selection(1),
            Action::Up => self.move_selection(-1),
            Action::PageDown => self.move_selection(10),
            Action::PageUp => self.move_selection(-10),
            Action::Top => self.move_selection(i64::MIN / 2),
            Action::Bottom => self.move_selection(i64::MAX / 2),
            Action::Back => {
                self.back();
                Vec::new()
            }
            Action::NextTab | Action::PrevTab => self.cycle_tab(action == Action::NextTab),
            Action::StartCall => self.start_call(),
            Action::EndCall => self.end_call(),
            Action::ChangeStatus => match self.current_lead() {
                Some(lead) => self.show(Modal::Status(StatusForm::new(lead.id, lead.status))),
                None => Vec::new(),
            },
            Action::EditLead => match self.current_lead() {
                Some(lead) => self.show(Modal::Edit(Box::new(EditForm::new(lead)))),
                None => Vec::new(),
            },
            Action::AddLead => self.show(Modal::Edit(Box::new(EditForm::blank()))),
            Action::AddContact => match self.current_lead() {
                Some(lead) => self.show(Modal::Contact(ContactForm::new(lead.id))),
                None => Vec::new(),
            },
            Action::DeleteLead => self.delete_lead(),
            Action::TogglePause => {
                self.toggle_pause();
                Vec::new()
            }
            Action::ReleaseLock => {
                self.open_release();
                Vec::new()
            }
            Action::ToggleFloor if self.may(Permission::WatchFloor) => {
                self.floor.toggle();
                self.focus = Pane::Queue;
                self.floor_request().into_iter().collect()
            }
            Action::ToggleFloor => {
                self.status.warn(About::Console, "the floor view is for supervisors");
                Vec::new()
            }
            Action::WidenRange => {
                self.floor.widen();
                self.floor_request().into_iter().collect()
            }
            Action::Assign => {
                self.open_assign();
                Vec::new()
            }
            Action::Offline => self.offline(),
            Action::MergeLead => {
                self.open_merge();
                Vec::new()
            }
            Action::Refresh => {
                let mut requests = self.lists.reload();
                requests.push(Request::ActiveCalls);
                requests.extend(self.lead.reload());
                requests
            }
        }
    }

    fn show(&mut self, modal: Modal) -> Vec<Request> {
        self.modal = Some(modal);
        Vec::new()
    }

    fn claim_next(&mut self) -> Vec<Request> {
        // A claim reserves the lead: a paused agent must not hold one back from the floor.
        match self.desk.can_take_work() {
            Err(NotNow::AlreadyOnCall) => {
                self.status.warn(About::Console, "finish the current call first (e)");
                return Vec::new();
            }
            Err(not_now) => {
                self.say_not_now(not_now);
                return Vec::new();
            }
            Ok(()) => {}
        }
        self.status.info(About::Console, "finding the next lead…");
        vec![Request::Claim {
            agent_id: self.agent.id,
        }]
    }

    fn cycle_focus(&mut self, forward: bool) {
        let panes: Vec<Pane> = [Pane::Queue, Pane::Detail, Pane::Calls]
            .into_iter()
            .filter(|p| *p != Pane::Detail || self.lead.is_open())
            .collect();
        self.focus = cycle(&panes, self.focus, forward);
    }

    /// Esc: leave the search, else close the lead (not during its call), else back to the queue.
    fn back(&mut self) {
        if self.lists.showing_results() {
            self.lists.clear_search();
        } else if self.lead.is_open() && !self.desk.on_call() {
            self.lead.close();
            self.focus = Pane::Queue;
        } else {
            self.focus = Pane::Queue;
        }
    }

    fn cycle_tab(&mut self, forward: bool) -> Vec<Request> {
        if self.floor.supervising() && self.focus == Pane::Queue {
            // On the floor, the tabs step the figures through time.
            self.floor.step(!forward);
            return self.floor_request().into_iter().collect();
        }
        if self.focus == Pane::Detail {
            self.lead.cycle_tab(forward);
            return Vec::new();
        }
        self.lists.cycle_tab(forward)
    }

    fn open_selected(&mut self) -> Vec<Request> {
        match self.lists.selected_lead_id() {
            Some(id) => self.open_lead_by_id(id),
            None => Vec::new(),
        }
    }

    fn open_lead_by_id(&mut self, lead_id: Uuid) -> Vec<Request> {
        self.focus = Pane::Detail;
        vec![self.lead.open(lead_id)]
    }

    fn move_selection(&mut self, by: i64) -> Vec<Request> {
        match self.focus {
            Pane::Calls => self.calls.move_by(by),
            Pane::Detail => {
                self.lead.scroll_script(by.clamp(-1000, 1000));
            }
            Pane::Queue if self.floor.supervising() => self.floor.move_by(by),
            Pane::Queue => return self.lists.move_by(by),
        }
        Vec::new()
    }

    fn start_call(&mut self) -> Vec<Request> {
        let lead = self.current_lead().map(|l| (l.id, l.full_name()));
        match self.desk.start(lead.as_ref().map(|(id, _)| *id)) {
            Ok(request) => {
                if let Some((id, name)) = lead {
                    self.status.info(About::Lead(id), format!("starting a call to {name}…"));
                }
                vec![request]
            }
            Err(not_now) => {
                self.say_not_now(not_now);
                Vec::new()
            }
        }
    }

    fn say_not_now(&mut self, not_now: NotNow) {
        let text = match not_now {
            NotNow::AlreadyOnCall => "already on a call; end it with e",
            NotNow::Paused => "you are paused; press p to be ready",
            NotNow::NoLead => "open a lead first (Enter, or n for the next one)",
        };
        self.status.warn(About::Console, text);
    }

    fn end_call(&mut self) -> Vec<Request> {
        if let Some(hangup) = self.desk.hang_up() {
            let about = self.desk.call().map_or(About::Console, |c| About::Call(c.call_id));
            self.status.info(about, "hanging up…");
            return vec![hangup];
        }
        self.open_outcome()
    }

    /// The outcome form for the agent's call, with what the softphone's end implies chosen.
    fn open_outcome(&mut self) -> Vec<Request> {
        let zone = self.call_lead_zone();
        match self.desk.end(self.now, &self.dispositions) {
            Some(form) => {
                let form = form.for_lead(zone, self.policy.calling_hours);
                self.show(Modal::Outcome(Box::new(form)))
            }
            None => {
                self.status.warn(About::Console, "no call in progress");
                Vec::new()
            }
        }
    }

    /// The time zone of the lead on this agent's call (the floor's default when it has none).
    fn call_lead_zone(&self) -> chrono_tz::Tz {
        let call_lead = self.desk.call().map(|c| c.lead_id);
        self.lead
            .lead()
            .filter(|l| Some(l.id) == call_lead)
            .and_then(|l| l.timezone.as_deref())
            .and_then(crate::domain::hours::parse_tz)
            .unwrap_or(self.policy.default_timezone)
    }

    fn delete_lead(&mut self) -> Vec<Request> {
        let Some(lead) = self.current_lead() else {
            return Vec::new();
        };
        let (id, name) = (lead.id, lead.full_name());
        if self.desk.call().is_some_and(|c| c.lead_id == id) {
            self.status
                .warn(About::Lead(id), "this lead is on your call; end the call first");
            return Vec::new();
        }
        self.show(Modal::ConfirmDelete(id, name))
    }

    fn toggle_pause(&mut self) {
        match self.desk.state() {
            AgentState::Paused(_) => {
                self.desk.ready();
                self.status.info(About::Console, "ready");
            }
            AgentState::Ready => self.modal = Some(Modal::Pause(Field::new("Reason", "reason", ""))),
            _ => self.status.warn(About::Console, "finish the call before pausing"),
        }
    }

    fn open_release(&mut self) {
        if !self.may(Permission::ReleaseLock) {
            self.status
                .warn(About::Console, "only supervisors release other agents' calls");
        } else if self.focus != Pane::Calls {
            self.status
                .warn(About::Console, "select a call in the active-calls pane first (Tab)");
        } else if let Some(call) = self.calls.selected_call() {
            let field = Field::new("Reason", "reason", "");
            self.modal = Some(Modal::Release(call.call_id, call.agent_name.clone(), field));
        }
    }

    /// A supervisor merges a duplicate into the open (or selected) lead, which is kept.
    fn open_merge(&mut self) {
        if !self.may(Permission::MergeLeads) {
            return self.status.warn(About::Console, "only supervisors merge leads");
        }
        let Some(lead) = self.current_lead() else {
            return self
                .status
                .warn(About::Console, "open the lead to keep, then M names its duplicate");
        };
        self.modal = Some(Modal::Merge(MergeForm {
            keep: lead.id,
            keep_name: lead.full_name(),
            other: Field::new("Duplicate", "lead id", ""),
        }));
    }

    /// On an offline copy: sync it with the floor. On the floor: take leads away in a copy.
    fn offline(&mut self) -> Vec<Request> {
        if self.offline_copy.is_none() {
            let file = crate::offline_link::default_file(&self.agent.name, self.now);
            return self.show(Modal::Checkout(Box::new(crate::tui::forms::CheckoutForm::new(&file))));
        }
        match &self.floor_link {
            Some(link) => {
                self.status
                    .info(About::Console, format!("syncing with {}…", link.describe()));
                vec![Request::SyncOffline { link: link.clone() }]
            }
            None => {
                self.status.warn(
                    About::Console,
                    "no way to the floor from here: log in with coldcall login, then press O again",
                );
                Vec::new()
            }
        }
    }

    /// A supervisor gives the selected overdue callback (on the floor) or the current lead (in
    /// the lead views) to an agent they name.
    fn open_assign(&mut self) {
        let permission = if self.floor.supervising() {
            Permission::HandCallback
        } else {
            Permission::AssignToOther
        };
        if !self.may(permission) {
            return self
                .status
                .warn(About::Console, "only supervisors assign leads and hand callbacks on");
        }
        let target = if self.floor.supervising() {
            match self.floor.selected_overdue() {
                Some(cb) => Some((
                    AssignTarget::Callback(cb.id),
                    format!("{}'s callback to {}", cb.agent_name, cb.lead_name),
                )),
                None => {
                    return self.status.warn(
                        About::Console,
                        "no overdue callback selected; F shows the leads to assign one",
                    )
                }
            }
        } else {
            self.current_lead()
                .map(|lead| (AssignTarget::Lead(lead.id), lead.full_name()))
        };
        if let Some((target, what)) = target {
            self.modal = Some(Modal::Assign(AssignForm {
                target,
                what,
                agent: Field::new("Agent", "agent name", ""),
            }));
        }
    }

    fn modal_key(&mut self, modal: Modal, key: KeyEvent) -> Vec<Request> {
        match modal::key(modal, &key, self.agent.id, &self.region) {
            Decided::Open(modal) => {
                if matches!(&modal, Modal::Edit(form) if form.has_errors()) {
                    self.status
                        .error(About::Form, "the lead has errors; see the marked fields");
                }
                self.show(modal)
            }
            Decided::Closed => Vec::new(),
            Decided::Said(text) => {
                self.status.info(About::Console, text);
                Vec::new()
            }
            Decided::Quit => {
                self.quit = true;
                Vec::new()
            }
            Decided::Pause(reason) => {
                self.desk.pause(reason);
                self.status.info(About::Console, "paused; press p when ready");
                Vec::new()
            }
            Decided::BackToCall => {
                self.desk.outcome_cancelled();
                Vec::new()
            }
            Decided::Outcome(form, outcome) => {
                let about = About::Call(form.call_id);
                self.status.info(about, "saving the outcome…");
                vec![self.desk.save_outcome(form, outcome)]
            }
            Decided::Filter(filter) => self.lists.set_filter(filter),
            Decided::Send(request) => vec![request],
        }
    }

    // ------------------------------------------------------------------ time

    /// Called about once a second: moves the clock and asks for periodic work.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Request> {
        self.now = now;
        let mut requests = Vec::new();
        if self.last_refresh.is_none_or(|t| now - t >= REFRESH_EVERY) {
            self.last_refresh = Some(now);
            requests.push(Request::ActiveCalls);
            self.live_calls.went(now);
            let refresh = self.lists.refresh();
            if !refresh.is_empty() {
                self.live_list.went(now);
            }
            requests.extend(refresh);
        }
        requests.extend(self.live_refreshes(false, false));
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
        requests.extend(self.desk.heartbeat(now));
        requests
    }

    /// The agent's state for the floor, when it changed or is due again as a heartbeat.
    pub fn publish_presence(&mut self) -> Vec<Request> {
        self.desk.publish(self.now).into_iter().collect()
    }

    // ------------------------------------------------------------------ replies

    pub fn on_reply(&mut self, reply: Reply) -> Vec<Request> {
        let before = self.subjects();
        let requests = self.reply(reply);
        self.status.follow(before, self.subjects());
        requests
    }

    fn reply(&mut self, reply: Reply) -> Vec<Request> {
        // Any answer, a refusal included, says the store is reachable: the writes kept while it
        // was away go again now. Whichever request answers first (a list refresh, presence, the
        // feed) is what retries them, so no kept write waits on one kind of reply.
        let mut retried = Vec::new();
        if !matches!(reply, Reply::Failed { .. } | Reply::FeedDown(_)) {
            if self.connection.answered() {
                self.status.info(About::Console, "database connection is back");
            }
            retried = self.connection.retry();
        }
        retried.extend(self.answer(reply));
        retried
    }

    /// Routes a reply to what it is about. Replies that ask for more (a refresh, the lead again)
    /// are answered here; the rest only bring something to keep or to say (`keep`).
    fn answer(&mut self, reply: Reply) -> Vec<Request> {
        match reply {
            Reply::Changes(changes) => self.on_changes(&changes),
            Reply::Claimed(Some(claim)) => self.on_claimed(claim),
            Reply::Merged(summary) => self.on_merged(&summary),
            Reply::CheckedOut { file, summary } => self.on_checked_out(&file, &summary),
            Reply::Synced(synced) => self.on_synced(&synced.report),
            Reply::CallStarted(started) => self.on_call_started(started),
            Reply::Phone { call_id, event } => self.on_phone(call_id, event),
            Reply::CallEnded(ended) => self.on_call_ended(ended),
            Reply::LeadChanged { lead, message } => self.on_lead_changed(*lead, message),
            Reply::LeadAdded(lead) => self.on_lead_added(*lead),
            Reply::Assigned(message) => self.on_assigned(message),
            Reply::Released(lock) => self.on_released(&lock),
            Reply::ContactAdded(contact) => self.on_contact_added(&contact),
            Reply::LeadDeleted { lead_id } => self.on_lead_deleted(lead_id),
            other => {
                self.keep(other);
                Vec::new()
            }
        }
    }

    /// Replies after which nothing more is asked: data put where it belongs, or a message.
    fn keep(&mut self, reply: Reply) {
        match reply {
            Reply::Ok => {}
            Reply::FeedDown(message) => self.on_feed_down(&message),
            Reply::Leads { seq, after, page } => self.lists.on_leads(seq, after, page),
            Reply::Queue { seq, leads } => self.lists.on_queue(seq, leads),
            Reply::Search { seq, leads } => self.lists.on_search(seq, leads),
            Reply::Callbacks { callbacks, blocked } => self.on_callbacks(callbacks, &blocked),
            Reply::Claimed(None) => self.status.warn(
                About::Console,
                "no lead can be called right now (all claimed, called recently, or outside calling hours)",
            ),
            Reply::Detail {
                lead,
                contacts,
                calls,
                statuses,
            } => self.lead.on_detail(*lead, contacts, calls, statuses),
            Reply::ActiveCalls(calls) => self.calls.on_reply(calls),
            Reply::Dispositions(list) => self.dispositions = list,
            Reply::Policy(policy) => self.policy = *policy,
            Reply::Security(security) => self.security = Some(security),
            Reply::OfflineCopy(checkout) => self.offline_copy = checkout,
            Reply::Script { lead_id, script } => self.lead.on_script(lead_id, script),
            Reply::Refused(refusal) => self.on_refused(&refusal),
            Reply::HeartbeatLost { call_id } => self.on_heartbeat_lost(call_id),
            Reply::Hooked { hangup, error } => self.on_hooked(hangup, error),
            Reply::Floor {
                presence,
                figures,
                overdue,
                offline,
            } => self.floor.on_floor(Floor {
                presence,
                figures: *figures,
                overdue,
                offline,
            }),
            Reply::Reaped(reaped) => self.on_reaped(reaped.len()),
            Reply::Rejected { what, message, request } => self.on_rejected(what, &message, *request),
            Reply::Failed { what, message, request } => self.on_failed(what, &message, *request),
            // `answer` takes these before they reach here.
            Reply::Changes(_)
            | Reply::Claimed(Some(_))
            | Reply::Merged(_)
            | Reply::CheckedOut { .. }
            | Reply::Synced(_)
            | Reply::CallStarted(_)
            | Reply::Phone { .. }
            | Reply::CallEnded(_)
            | Reply::LeadChanged { .. }
            | Reply::LeadAdded(_)
            | Reply::Assigned(_)
            | Reply::Released(_)
            | Reply::ContactAdded(_)
            | Reply::LeadDeleted { .. } => {}
        }
    }

    fn on_feed_down(&mut self, message: &str) {
        if self.connection.lost() {
            self.status
                .warn(About::Console, format!("database unreachable: {message}"));
        }
    }

    /// The agent's open callbacks: listed, and a due one announced with when `n` can give it.
    fn on_callbacks(&mut self, callbacks: Vec<crate::store::Callback>, blocked: &[(Uuid, crate::domain::Refusal)]) {
        let claim_key = self.keymap.key_for(Action::ClaimNext);
        if let Some(text) = self.announcer.due(&callbacks, blocked, self.now, &claim_key) {
            self.status.warn(About::Console, text);
        }
        self.lists.on_callbacks(callbacks);
    }

    /// The next lead is the agent's: it opens, and My queue no longer lists it as waiting.
    fn on_claimed(&mut self, claim: crate::store::Claim) -> Vec<Request> {
        let due = if claim.source == crate::store::ClaimSource::Callback {
            " (callback due)"
        } else {
            ""
        };
        let lead_id = claim.lead.id;
        let text = format!("next: {}{due}; press c to call", claim.lead.full_name());
        self.status.info(About::Lead(lead_id), text);
        self.focus = Pane::Detail;
        let mut requests = vec![self.lead.show(claim.lead)];
        if self.lists.tab() == QueueTab::Mine {
            requests.extend(self.lists.reload());
        }
        requests
    }

    fn on_merged(&mut self, summary: &crate::store::MergeSummary) -> Vec<Request> {
        use crate::display::count;
        self.status.info(
            About::Lead(summary.kept.id),
            format!(
                "merged into {}: {}, {}, {} and {} moved",
                summary.kept.full_name(),
                count(summary.calls, "call"),
                count(summary.status_changes, "status change"),
                count(summary.contacts, "contact point"),
                count(summary.callbacks, "callback")
            ),
        );
        let mut requests = self.lists.refresh();
        requests.extend(self.lead.reload());
        requests
    }

    fn on_checked_out(
        &mut self,
        file: &std::path::Path,
        summary: &crate::store::offline::CheckoutSummary,
    ) -> Vec<Request> {
        self.status.info(
            About::Console,
            format!(
                "checked out {} leads to {} until {}; work it with: coldcall offline open {}",
                summary.leads,
                file.display(),
                summary
                    .checkout
                    .expires_at
                    .with_timezone(&chrono::Local)
                    .format("%a %d %b %H:%M"),
                file.display()
            ),
        );
        self.lists.refresh()
    }

    fn on_synced(&mut self, r: &crate::store::offline::SyncReport) -> Vec<Request> {
        use crate::display::count;
        let conflicts = match r.conflicts() {
            0 => "no conflicts".to_string(),
            n => format!("{}: see coldcall offline status", count(n as u64, "conflict")),
        };
        self.status.info(
            About::Console,
            format!(
                "synced: {} and {} sent, {} given back; {conflicts}",
                count(r.calls_uploaded, "call"),
                count(r.status_changes_applied, "status change"),
                count(r.leads_released, "lead")
            ),
        );
        let mut requests = self.lists.refresh();
        requests.push(Request::OfflineCopy);
        requests.extend(self.lead.reload());
        requests
    }

    fn on_refused(&mut self, refusal: &crate::domain::Refusal) {
        let about = self.current_lead().map_or(About::Console, |l| About::Lead(l.id));
        self.status.error(about, call::refusal_text(refusal, self.now));
    }

    fn on_heartbeat_lost(&mut self, call_id: Uuid) {
        if self.desk.call().is_some_and(|c| c.call_id == call_id) {
            self.status.error(
                About::Call(call_id),
                "the call lock expired (no heartbeat reached the database); record the outcome anyway",
            );
        }
    }

    fn on_lead_changed(&mut self, lead: Lead, message: String) -> Vec<Request> {
        let lead_id = lead.id;
        self.status.info(About::Lead(lead_id), message);
        self.lead.on_changed(lead);
        let mut requests = vec![Request::Detail { lead_id }];
        requests.extend(self.lists.reload());
        requests
    }

    fn on_lead_added(&mut self, lead: Lead) -> Vec<Request> {
        let text = format!("lead added: {}; press c to call", lead.full_name());
        self.status.info(About::Lead(lead.id), text);
        self.focus = Pane::Detail;
        let mut requests = vec![self.lead.show(lead)];
        requests.extend(self.lists.reload());
        requests
    }

    /// The softphone hook ran; only its failure is worth a word.
    fn on_hooked(&mut self, hangup: bool, error: Option<String>) {
        let Some(error) = error else { return };
        let what = if hangup { "hang-up" } else { "dialling" };
        let about = self.desk.call().map_or(About::Console, |c| About::Call(c.call_id));
        self.status.error(
            about,
            format!("{what} failed: {error} (noted on the call; dial by hand)"),
        );
    }

    fn on_assigned(&mut self, message: String) -> Vec<Request> {
        self.status.info(About::Console, message);
        let mut requests = self.lists.refresh();
        requests.extend(self.floor_request());
        requests.extend(self.lead.reload());
        requests
    }

    fn on_released(&mut self, lock: &crate::store::ReapedLock) -> Vec<Request> {
        self.status.info(
            About::Console,
            format!("call {} released; recorded as abandoned", lock.call_id),
        );
        let mut requests = vec![Request::ActiveCalls];
        requests.extend(self.floor_request());
        requests
    }

    fn on_reaped(&mut self, reaped: usize) {
        if reaped > 0 {
            self.status.info(
                About::Console,
                format!("released {reaped} stale call lock(s) left by a console that stopped"),
            );
        }
    }

    fn on_contact_added(&mut self, contact: &crate::store::Contact) -> Vec<Request> {
        let text = format!(
            "contact added: {}",
            crate::display::contact_value(contact.kind, &contact.value)
        );
        self.status.info(About::Lead(contact.lead_id), text);
        vec![Request::Detail {
            lead_id: contact.lead_id,
        }]
    }

    fn on_lead_deleted(&mut self, lead_id: Uuid) -> Vec<Request> {
        self.status.info(
            About::Console,
            "lead deleted (it can be restored from the command line)",
        );
        if self.lead.on_deleted(lead_id) {
            self.focus = Pane::Queue;
        }
        self.lists.reload()
    }

    /// Input the store would not take: said, and an outcome form comes back with what was typed.
    fn on_rejected(&mut self, what: &str, message: &str, request: Request) {
        let mut about = About::Console;
        if let Request::EndCall(_) = request {
            if let Some(form) = self.desk.on_end_rejected(message) {
                self.modal = Some(Modal::Outcome(form));
                about = About::Form;
            }
        }
        self.status.error(about, format!("{what}: {message}"));
    }

    /// The database did not answer: said, and a write that must survive is kept for a retry.
    fn on_failed(&mut self, what: &str, message: &str, request: Request) {
        self.lists.on_failed();
        let session_ended = message.contains(crate::store::remote::LOG_IN_AGAIN);
        let text = match (self.connection.failed(request), session_ended) {
            // Said short, so the way out fits the status line.
            (true, true) => format!("session ended, {what} kept: {}", crate::store::remote::LOG_IN_AGAIN),
            (false, true) => format!("session ended: {}", crate::store::remote::LOG_IN_AGAIN),
            (true, false) => format!("database unreachable while {what}; kept, will save when it is back"),
            (false, _) => format!("database unreachable while {what}: {message}"),
        };
        self.status.warn(About::Console, text);
    }

    fn on_call_started(&mut self, started: crate::store::StartedCall) -> Vec<Request> {
        let lead_name = self.current_lead().map(|l| l.full_name()).unwrap_or_default();
        self.status.info(
            About::Call(started.call_id),
            format!(
                "on the call: dial {}",
                crate::domain::phone::format_international(&started.phone_number)
            ),
        );
        self.desk
            .on_started(&started, lead_name, self.now, self.softphone.is_some());
        let mut requests = vec![
            Request::ActiveCalls,
            Request::Detail {
                lead_id: started.lead_id,
            },
            Request::Script {
                lead_id: started.lead_id,
                agent: self.agent.name.clone(),
            },
        ];
        match &self.softphone {
            Some(settings) => {
                self.status.info(
                    About::Call(started.call_id),
                    format!(
                        "dialling {} through baresip…",
                        crate::domain::phone::format_international(&started.phone_number)
                    ),
                );
                requests.push(Request::Dial {
                    call_id: started.call_id,
                    number: started.phone_number.clone(),
                    settings: Box::new(settings.clone()),
                });
            }
            None => requests.extend(self.hook(&started.phone_number, started.lead_id, started.call_id, false)),
        }
        requests
    }

    /// What the softphone says about a call: the banner follows it, and its end opens the
    /// outcome form by itself (unless another form is open: what is typed there stays).
    fn on_phone(&mut self, call_id: Uuid, event: PhoneEvent) -> Vec<Request> {
        let about = About::Call(call_id);
        let number = self
            .desk
            .call()
            .filter(|c| c.call_id == call_id)
            .map(|c| crate::domain::phone::format_international(&c.phone))
            .unwrap_or_default();
        match event {
            PhoneEvent::Progress(step) => match self.desk.on_progress(call_id, step) {
                Stepped::NotOurs => Vec::new(),
                Stepped::Dialling(uri) => {
                    self.status
                        .info(about, format!("dialling {}…", crate::display::printable(&uri)));
                    Vec::new()
                }
                Stepped::Ringing => {
                    self.status.info(about, "ringing…");
                    Vec::new()
                }
                Stepped::Answered => {
                    self.status.info(about, "answered: talk time runs from now");
                    Vec::new()
                }
                Stepped::Ended { ended, .. } => {
                    let reason = crate::display::printable(&ended.reason);
                    let text = match ended.by {
                        crate::dialer::EndedBy::SoftphoneLost => {
                            format!("{reason}; the call is ended: record its outcome")
                        }
                        _ => format!("call ended: {reason}"),
                    };
                    let level_error = ended.by == crate::dialer::EndedBy::SoftphoneLost;
                    self.wrap_up_after_phone(about, text, level_error)
                }
            },
            PhoneEvent::DialFailed(message) => {
                let Some(waiting) = self.desk.on_dial_failed(call_id) else {
                    return Vec::new();
                };
                let text = format!("{message}; dial {number} by hand (e ends the call)");
                // On record too: the call log says the softphone failed and why.
                let note = Request::NoteCall {
                    call_id,
                    text: format!("softphone: {message}; dialled by hand"),
                };
                if waiting {
                    let mut requests = self.wrap_up_after_phone(about, text, true);
                    requests.push(note);
                    return requests;
                }
                self.status.error(about, text);
                vec![note]
            }
            PhoneEvent::Gone => {
                if self.desk.on_line_gone(call_id) {
                    let text = "the softphone lost the call without saying how it ended; record its outcome";
                    return self.wrap_up_after_phone(about, text.into(), true);
                }
                Vec::new()
            }
        }
    }

    /// The softphone's call is over: the outcome form opens, unless a form is already on
    /// screen. The agent's own outcome form keeps what was typed and gets the talk time and the
    /// disposition the end implies; another form (an edit, say) is left alone and `e` opens the
    /// outcome when the agent is done with it.
    fn wrap_up_after_phone(&mut self, about: About, text: String, error: bool) -> Vec<Request> {
        let seconds = self.desk.seconds(self.now);
        let code = self
            .desk
            .call()
            .and_then(|c| c.line.as_ref())
            .and_then(PhoneCall::disposition);
        match self.modal.as_mut() {
            Some(Modal::Outcome(form)) => {
                if let Some(seconds) = seconds {
                    form.duration_s = seconds as i32;
                }
                if form.selected.is_none() {
                    form.choose(code);
                }
                self.say(About::Form, text, error);
                Vec::new()
            }
            Some(_) => {
                let key = self.keymap.key_for(Action::EndCall);
                self.say(about, format!("{text}; press {key} to record the outcome"), error);
                Vec::new()
            }
            None if *self.desk.state() == AgentState::OnCall => {
                let requests = self.open_outcome();
                self.say(About::Form, format!("{text} — Enter saves the outcome"), error);
                requests
            }
            None => {
                self.say(about, text, error);
                Vec::new()
            }
        }
    }

    fn say(&mut self, about: About, text: String, error: bool) {
        if error {
            self.status.error(about, text);
        } else {
            self.status.info(about, text);
        }
    }

    fn on_call_ended(&mut self, ended: crate::store::EndedCall) -> Vec<Request> {
        let (call, status_change) = self.desk.on_ended(&ended);
        let phone = call.map(|c| c.phone).unwrap_or_default();
        self.status.info(
            About::Lead(ended.lead_id),
            format!(
                "saved: {} — lead is {}",
                self.outcome_label(&ended.disposition),
                ended.new_status.label()
            ),
        );
        let mut requests = vec![Request::ActiveCalls, Request::Detail { lead_id: ended.lead_id }];
        requests.extend(status_change);
        requests.extend(self.lists.reload());
        requests.extend(self.hook(&phone, ended.lead_id, ended.call_id, true));
        requests
    }

    /// Refreshes only what the changes touch: the floor's calls and lock badges, the open lead,
    /// the list on screen.
    fn on_changes(&mut self, changes: &[Change]) -> Vec<Request> {
        let mut requests = Vec::new();
        if changes.is_empty() {
            return requests;
        }
        if let Some(lead_id) = self.lead.id() {
            if changes.iter().any(|c| c.lead_id == lead_id) {
                requests.push(Request::Detail { lead_id });
            }
        }
        let calls = changes.iter().any(|c| c.kind == "active_call");
        // A released lock leaves the pane at once; the re-read (which may wait out the gap)
        // confirms it.
        for change in changes.iter().filter(|c| c.kind == "active_call" && c.op == "delete") {
            self.calls.released(change.lead_id);
        }
        // A change to a lead a list does not show cannot change a row on screen; what it may
        // add to a list that has rows (a lead freed, a lead come due) the periodic refresh brings.
        let list = !self.lists.showing_results() && changes.iter().any(|c| self.lists.may_change(c.lead_id));
        requests.extend(self.live_refreshes(calls, list));
        requests
    }

    /// The re-reads changes asked for (`calls`, `list`: asked now) that may go now.
    fn live_refreshes(&mut self, calls: bool, list: bool) -> Vec<Request> {
        let mut requests = Vec::new();
        let now = self.now;
        if (calls && self.live_calls.ask(now)) || (!calls && self.live_calls.due(now)) {
            requests.push(Request::ActiveCalls);
            requests.extend(self.floor_request());
        }
        if (list && self.live_list.ask(now)) || (!list && self.live_list.due(now)) {
            let refresh = if self.lists.showing_results() {
                Vec::new()
            } else {
                self.lists.refresh()
            };
            if refresh.is_empty() && !self.lists.showing_results() {
                self.live_list.still_asked();
            }
            requests.extend(refresh);
        }
        requests
    }

    fn floor_request(&self) -> Option<Request> {
        self.floor.request(self.now)
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
}

/// The item after (or before) `current` in `all`, wrapping around.
pub(crate) fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let at = all.iter().position(|x| *x == current).unwrap_or(0);
    let next = if forward {
        (at + 1) % all.len()
    } else {
        (at + all.len() - 1) % all.len()
    };
    all[next]
}

/// A selection moved by `by` rows, kept inside a list of `len`.
pub(crate) fn step(at: usize, by: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (at as i64).saturating_add(by).clamp(0, len as i64 - 1) as usize
}

#[cfg(test)]
pub(crate) mod tests;
