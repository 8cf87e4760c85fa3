//! The async boundary of the console. The app never touches the database: it returns
//! `Request`s, the event loop runs each one in its own task against the store, and the answer
//! comes back as a `Reply` the app applies. Running requests in spawned tasks means a slow query
//! never freezes the screen, and nothing ever drops a database future half-way (a cancelled
//! transaction start can poison a pooled connection).

use uuid::Uuid;

use crate::domain::{Disposition, LeadFields, LeadStatus, Refusal};
use crate::store::{
    ActiveCall, CallLog, Callback, Claim, Contact, EndCall, EndedCall, Lead, LeadCursor, LeadFilter, NewContact, Page,
    StartCall, StartedCall, StatusChange, Store, StoreError,
};

/// How long the console waits for any one answer from the database before it calls the
/// database away: longer than the server's own statement timeout (15 s), so a slow answer is
/// still an answer, and short enough that a half-open connection never freezes a screen.
pub const ANSWER_BOUND: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A page of the lead list; `seq` lets the app keep only the latest answer.
    Leads {
        seq: u64,
        filter: LeadFilter,
        after: Option<LeadCursor>,
    },
    Search {
        seq: u64,
        text: String,
        filter: LeadFilter,
    },
    /// What claim-next would give this agent, in order.
    Queue {
        seq: u64,
        agent_id: i64,
    },
    Callbacks {
        agent_id: i64,
    },
    Claim {
        agent_id: i64,
    },
    Detail {
        lead_id: Uuid,
    },
    ActiveCalls,
    Dispositions,
    /// The floor's shared rules (calling hours, the default time zone).
    Policy,
    /// Whether the connection is encrypted and the server verified, for the header.
    Security,
    /// Whether this database is an offline copy (whose, from which floor, until when).
    OfflineCopy,
    /// Merges the lead named by `other` (an id or the start of one) into `keep`.
    Merge {
        keep: Uuid,
        other: String,
        by: i64,
    },
    /// Adds a line to a call's notes (what went wrong with the softphone, for the record).
    NoteCall {
        call_id: Uuid,
        text: String,
    },
    /// The script for a call to the lead, filled in for it and the agent.
    Script {
        lead_id: Uuid,
        agent: String,
    },
    /// Takes leads away for the agent into a new copy at `file`.
    Checkout {
        agent_id: i64,
        leads: u32,
        hours: u32,
        file: std::path::PathBuf,
    },
    /// Syncs this copy with its floor.
    SyncOffline {
        link: crate::offline_link::FloorLink,
    },
    StartCall(StartCall),
    Heartbeat {
        call_id: Uuid,
        agent_id: i64,
    },
    EndCall(EndCall),
    SetStatus {
        lead_id: Uuid,
        status: LeadStatus,
        reason: Option<String>,
        agent_id: i64,
    },
    SaveLead {
        lead_id: Uuid,
        fields: Box<LeadFields>,
        agent_id: i64,
    },
    /// A lead typed in the console.
    AddLead {
        fields: Box<LeadFields>,
        agent_id: i64,
    },
    AddContact {
        lead_id: Uuid,
        contact: NewContact,
        region: String,
    },
    DeleteLead {
        lead_id: Uuid,
        agent_id: i64,
    },
    /// What this agent is doing, for the floor (also the console's presence heartbeat).
    Presence {
        agent_id: i64,
        state: crate::domain::PresenceState,
        reason: Option<String>,
    },
    /// Runs the dial (or hang-up) hook; a failure is shown and added to the call's notes.
    Hook {
        call_id: Uuid,
        args: Vec<String>,
        hangup: bool,
    },
    /// The supervisor's view: every agent's state and today's figures.
    Floor {
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    },
    /// A supervisor releases a call lock, with a reason.
    ForceRelease {
        call_id: Uuid,
        by: i64,
        reason: String,
    },
    /// A supervisor gives a lead to a named agent (replacing any assignment it had).
    Assign {
        lead_id: Uuid,
        agent_name: String,
        by: i64,
    },
    /// A supervisor hands an open callback to a named agent.
    HandCallback {
        callback_id: Uuid,
        agent_name: String,
        by: i64,
    },
    /// Close locks whose console stopped sending heartbeats (any console may).
    ReapStaleLocks {
        agent_id: i64,
    },
    /// Dials the call's number through baresip. Run by the phone line (`tui::phone`), not
    /// the store: progress comes back as `Reply::Phone` until the call ends.
    Dial {
        call_id: Uuid,
        number: String,
        settings: Box<crate::dialer::BaresipSettings>,
    },
    /// Hangs up the softphone's call; its `Ended` follows as a `Reply::Phone`.
    Hangup {
        call_id: Uuid,
    },
}

/// What the softphone says about one call.
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneEvent {
    /// A step of the call; the last one is always `Progress::Ended`.
    Progress(crate::dialer::Progress),
    /// The call could not be placed (baresip absent, dead, or refusing), in words.
    DialFailed(String),
    /// The softphone has no such call any more (its end was already reported).
    Gone,
}

// Each reply is moved once through a channel; boxing the larger variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Reply {
    Leads {
        seq: u64,
        after: Option<LeadCursor>,
        page: Page<Lead>,
    },
    Search {
        seq: u64,
        leads: Vec<Lead>,
    },
    Queue {
        seq: u64,
        leads: Vec<Lead>,
    },
    /// This agent's open callbacks; `blocked` says, for those already due, why `n` cannot give
    /// them yet (outside the lead's calling hours, called too recently, ...).
    Callbacks {
        callbacks: Vec<Callback>,
        blocked: Vec<(Uuid, Refusal)>,
    },
    Claimed(Option<Claim>),
    Detail {
        lead: Box<Lead>,
        contacts: Vec<Contact>,
        calls: Vec<CallLog>,
        statuses: Vec<StatusChange>,
    },
    ActiveCalls(Vec<ActiveCall>),
    Dispositions(Vec<Disposition>),
    Policy(Box<crate::domain::Policy>),
    Security(crate::store::target::ConnectionSecurity),
    OfflineCopy(Option<Box<crate::store::offline::Checkout>>),
    Merged(Box<crate::store::MergeSummary>),
    Script {
        lead_id: Uuid,
        script: Option<crate::store::ScriptForCall>,
    },
    CheckedOut {
        file: std::path::PathBuf,
        summary: Box<crate::store::offline::CheckoutSummary>,
    },
    Synced(Box<crate::offline_link::Synced>),
    CallStarted(StartedCall),
    Refused(Refusal),
    HeartbeatLost {
        call_id: Uuid,
    },
    CallEnded(EndedCall),
    LeadChanged {
        lead: Box<Lead>,
        message: String,
    },
    LeadAdded(Box<Lead>),
    ContactAdded(Contact),
    LeadDeleted {
        lead_id: Uuid,
    },
    Reaped(Vec<crate::store::ReapedLock>),
    Floor {
        presence: Vec<crate::store::Presence>,
        figures: Box<crate::store::FloorFigures>,
        overdue: Vec<Callback>,
        offline: Vec<crate::store::offline::OpenCheckout>,
    },
    /// A lead or callback was given to someone; the message says to whom.
    Assigned(String),
    Released(crate::store::ReapedLock),
    /// The hook ran; `error` says how it failed.
    Hooked {
        hangup: bool,
        error: Option<String>,
    },
    /// Input the store rejected (validation, unknown disposition, conflict): shown, not retried.
    Rejected {
        what: &'static str,
        message: String,
        request: Box<Request>,
    },
    /// The database could not be reached or failed; `request` is kept for a retry.
    Failed {
        what: &'static str,
        message: String,
        request: Box<Request>,
    },
    /// The heartbeat succeeded: the database answers again.
    Ok,
    /// What changed on the floor since the last poll (often nothing: then it just says the
    /// database answers).
    Changes(Vec<crate::store::Change>),
    /// The feed could not be read.
    FeedDown(String),
    /// The softphone's progress on a call.
    Phone {
        call_id: Uuid,
        event: PhoneEvent,
    },
}

impl Request {
    /// Writes that must not be lost when the database is away: kept and retried until saved.
    pub fn must_survive(&self) -> bool {
        matches!(
            self,
            Request::EndCall(_)
                | Request::SetStatus { .. }
                | Request::SaveLead { .. }
                | Request::AddLead { .. }
                | Request::AddContact { .. }
        )
    }

    /// What the request does, as the status line says it ("loading your queue").
    pub fn what(&self) -> &'static str {
        match self {
            Request::Leads { .. } => "loading leads",
            Request::Search { .. } => "searching",
            Request::Queue { .. } => "loading your queue",
            Request::Callbacks { .. } => "loading callbacks",
            Request::Claim { .. } => "claiming the next lead",
            Request::Detail { .. } => "loading the lead",
            Request::ActiveCalls => "loading active calls",
            Request::Dispositions => "loading dispositions",
            Request::Policy => "loading the calling rules",
            Request::Security => "checking the connection's encryption",
            Request::OfflineCopy => "reading the offline copy's checkout",
            Request::Checkout { .. } => "checking leads out",
            Request::Merge { .. } => "merging the leads",
            Request::Script { .. } => "loading the call script",
            Request::NoteCall { .. } => "noting it on the call",
            Request::SyncOffline { .. } => "syncing with the floor",
            Request::StartCall(_) => "starting the call",
            Request::Heartbeat { .. } => "refreshing the call lock",
            Request::EndCall(_) => "saving the outcome",
            Request::SetStatus { .. } => "changing the status",
            Request::SaveLead { .. } => "saving the lead",
            Request::AddLead { .. } => "adding the lead",
            Request::AddContact { .. } => "adding the contact",
            Request::DeleteLead { .. } => "deleting the lead",
            Request::ReapStaleLocks { .. } => "releasing stale locks",
            Request::Presence { .. } => "publishing your state",
            Request::Hook { .. } => "recording the dial hook's failure",
            Request::Floor { .. } => "loading the floor",
            Request::ForceRelease { .. } => "releasing the call lock",
            Request::Assign { .. } => "assigning the lead",
            Request::HandCallback { .. } => "handing the callback on",
            Request::Dial { .. } => "dialling",
            Request::Hangup { .. } => "hanging up",
        }
    }

    /// Runs the request, waiting at most `ANSWER_BOUND` for the database. The work itself runs
    /// in its own task and is never cancelled half-way (a dropped transaction future can poison a
    /// pooled connection); past the bound the console is told the database did not answer and
    /// keeps the write to send again, which is safe because every kept write is idempotent.
    pub async fn run(self, store: &Store) -> Reply {
        let what = self.what();
        let again = self.clone();
        let store = store.clone();
        let work = tokio::spawn(async move { self.run_unbounded(&store).await });
        match tokio::time::timeout(ANSWER_BOUND, work).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(join)) => Reply::Failed {
                what,
                message: format!("the request stopped: {join}"),
                request: Box::new(again),
            },
            Err(_) => Reply::Failed {
                what,
                message: format!("the database did not answer within {} s", ANSWER_BOUND.as_secs()),
                request: Box::new(again),
            },
        }
    }

    async fn run_unbounded(self, store: &Store) -> Reply {
        let what = self.what();
        match self.execute(store).await {
            Ok(reply) => reply,
            Err((StoreError::Refused(refusal), _)) => Reply::Refused(refusal),
            Err((err, request)) if err.is_transient() => Reply::Failed {
                what,
                message: err.to_string(),
                request: Box::new(request),
            },
            Err((err, request)) => Reply::Rejected {
                what,
                message: err.to_string(),
                request: Box::new(request),
            },
        }
    }

    async fn execute(self, store: &Store) -> Result<Reply, (StoreError, Request)> {
        let result = match &self {
            Request::Leads { seq, filter, after } => {
                store.list_leads(filter, *after, 200).await.map(|page| Reply::Leads {
                    seq: *seq,
                    after: *after,
                    page,
                })
            }
            Request::Search { seq, text, filter } => store
                .search_leads(text, filter, 200)
                .await
                .map(|leads| Reply::Search { seq: *seq, leads }),
            Request::Queue { seq, agent_id } => store
                .queue_preview(*agent_id, 200)
                .await
                .map(|leads| Reply::Queue { seq: *seq, leads }),
            Request::Callbacks { agent_id } => callbacks(store, *agent_id).await,
            Request::Claim { agent_id } => store.claim_next(*agent_id).await.map(Reply::Claimed),
            Request::Detail { lead_id } => detail(store, *lead_id).await,
            Request::ActiveCalls => store.active_calls().await.map(Reply::ActiveCalls),
            Request::Dispositions => store.dispositions().await.map(Reply::Dispositions),
            Request::Policy => store.policy().await.map(|p| Reply::Policy(Box::new(p))),
            Request::Security => store.connection_security().await.map(Reply::Security),
            Request::Checkout {
                agent_id,
                leads,
                hours,
                file,
            } => {
                let request = crate::store::offline::CheckoutRequest {
                    agent_id: *agent_id,
                    by: *agent_id,
                    leads: *leads,
                    hours: *hours,
                };
                let checked_out = match store.remote() {
                    // Through the floor server: the session's agent, the copy sent back whole.
                    Some(server) => match crate::floor_session::load_session()
                        .filter(|s| s.server.trim_end_matches('/') == server.server())
                    {
                        Some(session) => {
                            let body = serde_json::json!({ "leads": leads, "hours": hours });
                            let body = body.as_object().cloned().unwrap_or_default();
                            crate::offline_link::checkout_through_server(&session, &body, file).await
                        }
                        None => Err(format!("not logged in to {}: run coldcall login", server.server())),
                    },
                    None => {
                        crate::offline_link::checkout_to_file(
                            store,
                            &request,
                            &crate::store::LeadFilter::default(),
                            file,
                        )
                        .await
                    }
                };
                checked_out
                    .map(|summary| Reply::CheckedOut {
                        file: file.clone(),
                        summary: Box::new(summary),
                    })
                    .map_err(StoreError::Conflict)
            }
            Request::NoteCall { call_id, text } => store.note_call(*call_id, text).await.map(|_| Reply::Ok),
            Request::Script { lead_id, agent } => match store.lead(*lead_id).await {
                Ok(Some(lead)) => store.script_for_call(&lead, agent).await.map(|script| Reply::Script {
                    lead_id: *lead_id,
                    script,
                }),
                Ok(None) => Ok(Reply::Script {
                    lead_id: *lead_id,
                    script: None,
                }),
                Err(e) => Err(e),
            },
            Request::Merge { keep, other, by } => {
                let merge = async {
                    let other = match Uuid::parse_str(other) {
                        Ok(id) => id,
                        Err(_) => {
                            let found = store.leads_by_id_prefix(other, 2).await?;
                            crate::domain::ids::pick_one("lead", other, found, |l| l.id)
                                .map_err(StoreError::BadInput)?
                                .id
                        }
                    };
                    store.merge_leads(*keep, other, *by).await
                };
                merge.await.map(|summary| Reply::Merged(Box::new(summary)))
            }
            Request::SyncOffline { link } => crate::offline_link::sync(store, link, None)
                .await
                .map(|synced| Reply::Synced(Box::new(synced)))
                .map_err(StoreError::Conflict),
            Request::OfflineCopy => store
                .offline_copy_of()
                .await
                .map(|c| Reply::OfflineCopy(c.map(Box::new))),
            Request::StartCall(req) => store.start_call(req).await.map(Reply::CallStarted),
            Request::Heartbeat { call_id, agent_id } => store.heartbeat(*call_id, *agent_id).await.map(|alive| {
                if alive {
                    Reply::Ok
                } else {
                    Reply::HeartbeatLost { call_id: *call_id }
                }
            }),
            Request::EndCall(req) => store.end_call(req).await.map(Reply::CallEnded),
            Request::SetStatus {
                lead_id,
                status,
                reason,
                agent_id,
            } => store
                .set_status(*lead_id, *status, reason.as_deref(), Some(*agent_id))
                .await
                .map(|lead| Reply::LeadChanged {
                    message: format!("status is now {}", lead.status.label()),
                    lead: Box::new(lead),
                }),
            Request::SaveLead {
                lead_id,
                fields,
                agent_id,
            } => store
                .update_lead(*lead_id, fields, Some(*agent_id), None)
                .await
                .map(|lead| Reply::LeadChanged {
                    lead: Box::new(lead),
                    message: "lead saved".into(),
                }),
            Request::AddLead { fields, agent_id } => store
                .create_lead(fields, Some(*agent_id))
                .await
                .map(|lead| Reply::LeadAdded(Box::new(lead))),
            Request::AddContact {
                lead_id,
                contact,
                region,
            } => store
                .add_contact(*lead_id, contact, region)
                .await
                .map(Reply::ContactAdded),
            Request::Floor { from, to } => floor(store, *from, *to).await,
            Request::ForceRelease { call_id, by, reason } => {
                store.force_release(*call_id, *by, reason).await.map(Reply::Released)
            }
            Request::Assign {
                lead_id,
                agent_name,
                by,
            } => {
                let assign = async {
                    let agent = active_agent(store, agent_name).await?;
                    store.assign(*lead_id, agent.id, Some(*by), None).await?;
                    Ok(Reply::Assigned(format!("lead assigned to {}", agent.name)))
                };
                assign.await
            }
            Request::HandCallback {
                callback_id,
                agent_name,
                by,
            } => {
                let hand = async {
                    let agent = active_agent(store, agent_name).await?;
                    if !store.hand_callback(*callback_id, agent.id, Some(*by)).await? {
                        return Err(StoreError::not_found("open callback", callback_id));
                    }
                    Ok(Reply::Assigned(format!("callback handed to {}", agent.name)))
                };
                hand.await
            }
            Request::Hook { call_id, args, hangup } => {
                let error = crate::dialer::run(args).await.err();
                let noted = match &error {
                    Some(e) => {
                        let what = if *hangup { "hang-up hook" } else { "dial hook" };
                        store
                            .note_call(*call_id, &format!("{what} failed: {e}"))
                            .await
                            .map(|_| ())
                    }
                    None => Ok(()),
                };
                noted.map(|()| Reply::Hooked { hangup: *hangup, error })
            }
            Request::Presence {
                agent_id,
                state,
                reason,
            } => store
                .set_presence(*agent_id, *state, reason.as_deref())
                .await
                .map(|()| Reply::Ok),
            Request::ReapStaleLocks { agent_id } => store.reap_stale_locks(Some(*agent_id)).await.map(Reply::Reaped),
            // The event loop hands these to the phone line; a store has no telephone.
            Request::Dial { .. } | Request::Hangup { .. } => Err(StoreError::BadInput(
                "the softphone's requests are run by the phone line, not the store".into(),
            )),
            Request::DeleteLead { lead_id, agent_id } => store
                .delete_lead(*lead_id, Some(*agent_id))
                .await
                .map(|lead| Reply::LeadDeleted { lead_id: lead.id }),
        };
        result.map_err(|e| (e, self))
    }
}

/// The agent's callbacks for the next week; each one already due is checked against the rules,
/// so the console can say when it can be called instead of promising `n` gives it now.
async fn callbacks(store: &Store, agent_id: i64) -> Result<Reply, StoreError> {
    let now = store.now();
    let callbacks = store
        .due_callbacks(Some(agent_id), now + chrono::Duration::days(7))
        .await?;
    let mut blocked = Vec::new();
    for callback in callbacks.iter().filter(|c| c.due_at <= now) {
        if let Err(refusal) = store.can_call(callback.lead_id, agent_id).await? {
            blocked.push((callback.id, refusal));
        }
    }
    Ok(Reply::Callbacks { callbacks, blocked })
}

async fn floor(
    store: &Store,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Reply, StoreError> {
    let presence = store.presence().await?;
    let figures = store.floor_figures(from, to).await?;
    let overdue = store.due_callbacks(None, store.now()).await?;
    let offline = store.offline_checkouts().await?;
    Ok(Reply::Floor {
        presence,
        figures: Box::new(figures),
        overdue,
        offline,
    })
}

/// The agent a supervisor named, if it exists and still works here.
async fn active_agent(store: &Store, name: &str) -> Result<crate::store::Agent, StoreError> {
    match store.agent_by_name(name).await? {
        Some(agent) if agent.active => Ok(agent),
        Some(_) => Err(StoreError::Conflict(format!("agent '{name}' is deactivated"))),
        None => Err(StoreError::not_found("agent", name)),
    }
}

async fn detail(store: &Store, lead_id: Uuid) -> Result<Reply, StoreError> {
    let lead = store
        .lead(lead_id)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
    let (contacts, calls, statuses) = tokio::try_join!(
        store.contacts(lead_id),
        store.call_history(lead_id),
        store.status_history(lead_id)
    )?;
    Ok(Reply::Detail {
        lead: Box::new(lead),
        contacts,
        calls,
        statuses,
    })
}
