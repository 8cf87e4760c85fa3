//! The console's forms: outcome, status, edit, contact, filter, pause. Each form owns its
//! fields and turns keys into either more typing or a finished value; none of them does I/O.

use chrono::{DateTime, Duration, Local, NaiveDateTime, TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::to_input_request;
use tui_input::Input;
use uuid::Uuid;

use crate::domain::{CallingHours, ContactKind, Disposition, LeadInput, LeadStatus, Priority};
use crate::store::{Lead, LeadFilter, NewContact};

/// What a form says after a key.
#[derive(Debug, PartialEq)]
pub enum FormResult<T> {
    /// Still editing.
    Editing,
    /// The user backed out.
    Cancelled,
    Done(T),
}

/// One labelled text field with its own error line.
#[derive(Debug, Clone, Default)]
pub struct Field {
    pub label: &'static str,
    pub name: &'static str,
    pub input: Input,
    pub error: Option<String>,
}

impl Field {
    pub fn new(label: &'static str, name: &'static str, value: &str) -> Field {
        Field {
            label,
            name,
            input: Input::new(value.to_string()),
            error: None,
        }
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// Typing keys go to the input; returns false for keys it does not use.
    pub fn type_key(&mut self, key: &KeyEvent) -> bool {
        match to_input_request(&Event::Key(*key)) {
            Some(request) => {
                self.input.handle(request);
                true
            }
            None => false,
        }
    }
}

fn is_ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

// ---------------------------------------------------------------------------------- outcome

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeFocus {
    Disposition,
    Notes,
    Callback,
    Status,
}

/// Captures the outcome of a call: disposition (by hotkey or list), notes, a callback time when
/// the disposition asks for one, and an optional different next status.
#[derive(Debug, Clone)]
pub struct OutcomeForm {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub duration_s: i32,
    pub dispositions: Vec<Disposition>,
    pub selected: Option<usize>,
    pub cursor: usize,
    pub notes: Field,
    pub callback: Field,
    /// None keeps what the disposition implies.
    pub status: Option<LeadStatus>,
    pub focus: OutcomeFocus,
    pub error: Option<String>,
    /// The lead's zone and the floor's calling hours, to show a callback time as the lead
    /// will live it.
    lead_zone: Option<chrono_tz::Tz>,
    hours: CallingHours,
}

/// A callback time read back to the agent: in the lead's own time, and whether it falls
/// outside the lead's calling hours.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackTime {
    pub text: String,
    pub outside_hours: bool,
}

impl CallbackTime {
    /// What to warn when the time is outside the lead's calling hours.
    pub fn warning(&self, hours: &CallingHours) -> Option<String> {
        self.outside_hours.then(|| {
            format!(
                "outside the lead's calling hours ({}–{} there)",
                hours.start.format("%H:%M"),
                hours.end.format("%H:%M")
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub disposition: String,
    pub notes: Option<String>,
    pub callback_at: Option<DateTime<Utc>>,
    pub status: Option<LeadStatus>,
}

impl OutcomeForm {
    pub fn new(
        call_id: Uuid,
        lead_id: Uuid,
        duration_s: i32,
        dispositions: Vec<Disposition>,
        now: DateTime<Utc>,
    ) -> Self {
        // A callback defaults to tomorrow at 10:00 on the agent's clock.
        let tomorrow = now.with_timezone(&Local).date_naive() + Duration::days(1);
        let default_callback = format!("{} 10:00", tomorrow.format("%Y-%m-%d"));
        OutcomeForm {
            call_id,
            lead_id,
            duration_s,
            dispositions,
            selected: None,
            cursor: 0,
            notes: Field::new("Notes", "notes", ""),
            callback: Field::new("Callback at", "callback_at", &default_callback),
            status: None,
            focus: OutcomeFocus::Disposition,
            error: None,
            lead_zone: None,
            hours: CallingHours::default(),
        }
    }

    /// Opens with this disposition chosen (what the softphone says the call was), so saving
    /// it is one key; an unknown code chooses nothing.
    pub fn preselect(mut self, code: Option<&str>) -> Self {
        self.choose(code);
        self
    }

    /// Chooses the disposition with this code (nothing for None or an unknown code).
    pub fn choose(&mut self, code: Option<&str>) {
        if let Some(i) = code.and_then(|code| self.dispositions.iter().position(|d| d.code == code)) {
            self.cursor = i;
            self.selected = Some(i);
        }
    }

    pub fn hours(&self) -> &CallingHours {
        &self.hours
    }

    /// Callback times are read back in `zone` (the lead's) against these calling hours.
    pub fn for_lead(mut self, zone: chrono_tz::Tz, hours: CallingHours) -> Self {
        self.lead_zone = Some(zone);
        self.hours = hours;
        self
    }

    /// The typed callback time in the lead's zone ("= 09:30 Tue in America/New_York"), warning
    /// when that is outside their calling hours; None while it is not a time.
    pub fn callback_time(&self) -> Option<CallbackTime> {
        let zone = self.lead_zone?;
        let at = parse_local_time(self.callback.value()).ok()?;
        let there = at.with_timezone(&zone).format("%H:%M %a").to_string();
        let outside_hours = matches!(self.hours.check(at, zone), crate::domain::hours::Window::Closed { .. });
        let text = format!("= {there} in {}", zone.name());
        Some(CallbackTime { text, outside_hours })
    }

    pub fn chosen(&self) -> Option<&Disposition> {
        self.selected.and_then(|i| self.dispositions.get(i))
    }

    fn focus_order(&self) -> Vec<OutcomeFocus> {
        let mut order = vec![OutcomeFocus::Disposition, OutcomeFocus::Notes];
        if self.chosen().is_some_and(|d| d.is_callback) {
            order.push(OutcomeFocus::Callback);
        }
        order.push(OutcomeFocus::Status);
        order
    }

    fn move_focus(&mut self, forward: bool) {
        let order = self.focus_order();
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % order.len()
        } else {
            (at + order.len() - 1) % order.len()
        };
        self.focus = order[next];
    }

    pub fn key(&mut self, key: &KeyEvent) -> FormResult<Outcome> {
        match key.code {
            KeyCode::Tab => {
                self.move_focus(true);
                return FormResult::Editing;
            }
            KeyCode::BackTab => {
                self.move_focus(false);
                return FormResult::Editing;
            }
            KeyCode::Esc if self.focus == OutcomeFocus::Disposition => return FormResult::Cancelled,
            KeyCode::Esc => {
                self.focus = OutcomeFocus::Disposition;
                return FormResult::Editing;
            }
            _ if is_ctrl(key, 's') => return self.finish(),
            _ => {}
        }
        match self.focus {
            OutcomeFocus::Disposition => match key.code {
                KeyCode::Enter => return self.finish(),
                KeyCode::Down | KeyCode::Char('j') if key.modifiers.is_empty() && !self.is_hotkey('j') => {
                    self.cursor = (self.cursor + 1).min(self.dispositions.len().saturating_sub(1));
                    self.selected = Some(self.cursor);
                }
                KeyCode::Up | KeyCode::Char('k') if key.modifiers.is_empty() && !self.is_hotkey('k') => {
                    self.cursor = self.cursor.saturating_sub(1);
                    self.selected = Some(self.cursor);
                }
                KeyCode::Char(c) => {
                    if let Some(i) = self.dispositions.iter().position(|d| d.hotkey == Some(c)) {
                        self.cursor = i;
                        self.selected = Some(i);
                        self.error = None;
                    }
                }
                _ => {}
            },
            OutcomeFocus::Notes => {
                if key.code == KeyCode::Enter {
                    self.notes.input.handle(tui_input::InputRequest::InsertChar('\n'));
                } else {
                    self.notes.type_key(key);
                }
            }
            OutcomeFocus::Callback => {
                if key.code == KeyCode::Enter {
                    return self.finish();
                }
                self.callback.type_key(key);
            }
            OutcomeFocus::Status => match key.code {
                KeyCode::Enter => return self.finish(),
                KeyCode::Right | KeyCode::Char('l') | KeyCode::Char(' ') => {
                    self.status = cycle_status(self.status, true)
                }
                KeyCode::Left | KeyCode::Char('h') => self.status = cycle_status(self.status, false),
                _ => {}
            },
        }
        FormResult::Editing
    }

    fn is_hotkey(&self, c: char) -> bool {
        self.dispositions.iter().any(|d| d.hotkey == Some(c))
    }

    fn finish(&mut self) -> FormResult<Outcome> {
        let Some(disposition) = self.chosen().cloned() else {
            self.error = Some("pick an outcome: press its key, or move with ↑/↓".into());
            self.focus = OutcomeFocus::Disposition;
            return FormResult::Editing;
        };
        let callback_at = if disposition.is_callback {
            match parse_local_time(self.callback.value()) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.callback.error = Some(e);
                    self.focus = OutcomeFocus::Callback;
                    return FormResult::Editing;
                }
            }
        } else {
            None
        };
        let notes = self.notes.value().trim();
        FormResult::Done(Outcome {
            disposition: disposition.code,
            notes: (!notes.is_empty()).then(|| notes.to_string()),
            callback_at,
            status: self.status,
        })
    }
}

/// Steps through `all` with None ("any", or "as the outcome says") before the first value.
fn cycle<T: Copy + PartialEq>(all: &[T], current: Option<T>, forward: bool) -> Option<T> {
    let at = current
        .and_then(|s| all.iter().position(|x| *x == s))
        .map(|i| i + 1)
        .unwrap_or(0);
    let len = all.len() + 1;
    let next = if forward { (at + 1) % len } else { (at + len - 1) % len };
    (next > 0).then(|| all[next - 1])
}

fn cycle_status(current: Option<LeadStatus>, forward: bool) -> Option<LeadStatus> {
    cycle(LeadStatus::ALL, current, forward)
}

/// "YYYY-MM-DD HH:MM" on the agent's clock.
pub fn parse_local_time(text: &str) -> Result<DateTime<Utc>, String> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M")
        .map_err(|_| format!("'{}' is not a time; write it as 2026-11-24 15:30", text.trim()))?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{} does not exist on this clock (daylight-saving change)", text.trim()))
}

// ---------------------------------------------------------------------------------- status

#[derive(Debug, Clone)]
pub struct StatusForm {
    pub lead_id: Uuid,
    pub cursor: usize,
    pub reason: Field,
}

impl StatusForm {
    pub fn new(lead_id: Uuid, current: LeadStatus) -> Self {
        let cursor = LeadStatus::ALL.iter().position(|s| *s == current).unwrap_or(0);
        StatusForm {
            lead_id,
            cursor,
            reason: Field::new("Reason", "reason", ""),
        }
    }

    pub fn key(&mut self, key: &KeyEvent) -> FormResult<(LeadStatus, Option<String>)> {
        match key.code {
            KeyCode::Esc => FormResult::Cancelled,
            KeyCode::Enter => {
                let reason = self.reason.value().trim();
                FormResult::Done((
                    LeadStatus::ALL[self.cursor],
                    (!reason.is_empty()).then(|| reason.to_string()),
                ))
            }
            KeyCode::Up => {
                self.cursor = self.cursor.saturating_sub(1);
                FormResult::Editing
            }
            KeyCode::Down => {
                self.cursor = (self.cursor + 1).min(LeadStatus::ALL.len() - 1);
                FormResult::Editing
            }
            _ => {
                self.reason.type_key(key);
                FormResult::Editing
            }
        }
    }
}

// ---------------------------------------------------------------------------------- edit

/// Edits a lead's fields. Saving validates exactly like every other way in, and shows each
/// field's error under that field.
#[derive(Debug, Clone)]
pub struct EditForm {
    pub lead_id: Uuid,
    pub fields: Vec<Field>,
    pub focus: usize,
    base: LeadInput,
}

impl EditForm {
    pub fn new(lead: &Lead) -> Self {
        let mut input = lead.fields().to_input();
        // Shown as the detail shows it; saving normalises it back to the same E.164 number.
        input.phone = crate::domain::phone::format_international(&input.phone);
        Self::with_input(lead.id, input)
    }

    /// An empty form for a lead not yet in the database (`lead_id` is nil until it is saved).
    pub fn blank() -> Self {
        let input = LeadInput {
            priority: Priority::Medium.as_str().to_string(),
            ..LeadInput::default()
        };
        Self::with_input(Uuid::nil(), input)
    }

    /// A new lead, not an edit of one.
    pub fn is_new(&self) -> bool {
        self.lead_id.is_nil()
    }

    fn with_input(lead_id: Uuid, input: LeadInput) -> Self {
        let fields = vec![
            Field::new("First name", "first_name", &input.first_name),
            Field::new("Last name", "last_name", &input.last_name),
            Field::new("Company", "company", &input.company),
            Field::new("Title", "title", &input.title),
            Field::new("Phone", "phone", &input.phone),
            Field::new("Email", "email", &input.email),
            Field::new("Time zone", "timezone", &input.timezone),
            Field::new("Priority", "priority", &input.priority),
            Field::new("Score", "lead_score", &input.lead_score),
            Field::new("Source", "source", &input.source),
            Field::new("Notes", "notes", &input.notes),
        ];
        EditForm {
            lead_id,
            fields,
            focus: 0,
            base: input,
        }
    }

    /// The form's values laid over the lead's others (status, flags stay as they are).
    pub fn input(&self) -> LeadInput {
        let mut input = self.base.clone();
        for f in &self.fields {
            let v = f.value().to_string();
            match f.name {
                "first_name" => input.first_name = v,
                "last_name" => input.last_name = v,
                "company" => input.company = v,
                "title" => input.title = v,
                "phone" => input.phone = v,
                "email" => input.email = v,
                "timezone" => input.timezone = v,
                "priority" => input.priority = v,
                "lead_score" => input.lead_score = v,
                "source" => input.source = v,
                "notes" => input.notes = v,
                _ => {}
            }
        }
        input
    }

    pub fn key(&mut self, key: &KeyEvent, region: &str) -> FormResult<crate::domain::LeadFields> {
        match key.code {
            KeyCode::Esc => return FormResult::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % self.fields.len(),
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + self.fields.len() - 1) % self.fields.len(),
            KeyCode::Enter => {
                for f in &mut self.fields {
                    f.error = None;
                }
                match self.input().validate(region) {
                    Ok(fields) => return FormResult::Done(fields),
                    Err(errors) => {
                        for e in errors.0 {
                            if let Some(f) = self.fields.iter_mut().find(|f| f.name == e.field) {
                                f.error = Some(e.message);
                            }
                        }
                        if let Some(first) = self.fields.iter().position(|f| f.error.is_some()) {
                            self.focus = first;
                        }
                    }
                }
            }
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('h') | KeyCode::Char('l')
                if self.on_priority() =>
            {
                let forward = !matches!(key.code, KeyCode::Left | KeyCode::Char('h'));
                let current = self.priority();
                let all = Priority::ALL;
                let at = all.iter().position(|p| Some(*p) == current).unwrap_or(0);
                let next = if forward {
                    (at + 1) % all.len()
                } else {
                    (at + all.len() - 1) % all.len()
                };
                self.fields[self.focus] = Field::new("Priority", "priority", all[next].as_str());
            }
            // Priority is a choice, not text: typing does nothing there.
            _ if self.on_priority() => {}
            _ => {
                self.fields[self.focus].type_key(key);
            }
        }
        FormResult::Editing
    }

    /// The priority chooser has the keyboard.
    pub fn on_priority(&self) -> bool {
        self.fields.get(self.focus).is_some_and(|f| f.name == "priority")
    }

    /// The chosen priority (None when the lead's stored value is not one).
    pub fn priority(&self) -> Option<Priority> {
        let field = self.fields.iter().find(|f| f.name == "priority")?;
        field.value().parse().ok()
    }

    pub fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }
}

// ---------------------------------------------------------------------------------- contact

#[derive(Debug, Clone)]
pub struct ContactForm {
    pub lead_id: Uuid,
    pub kind: ContactKind,
    pub value: Field,
    pub label: Field,
    pub primary: bool,
    pub focus: usize,
}

impl ContactForm {
    pub fn new(lead_id: Uuid) -> Self {
        ContactForm {
            lead_id,
            kind: ContactKind::Phone,
            value: Field::new("Value", "value", ""),
            label: Field::new("Label", "label", ""),
            primary: false,
            focus: 0,
        }
    }

    pub fn key(&mut self, key: &KeyEvent) -> FormResult<NewContact> {
        match key.code {
            KeyCode::Esc => return FormResult::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % 4,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + 3) % 4,
            KeyCode::Enter => {
                if self.value.value().trim().is_empty() {
                    self.value.error = Some("is required".into());
                    self.focus = 1;
                    return FormResult::Editing;
                }
                let label = self.label.value().trim();
                return FormResult::Done(NewContact {
                    kind: self.kind,
                    value: self.value.value().trim().to_string(),
                    label: (!label.is_empty()).then(|| label.to_string()),
                    is_primary: self.primary,
                    is_verified: false,
                });
            }
            _ => match self.focus {
                0 => {
                    let all = ContactKind::ALL;
                    let at = all.iter().position(|k| *k == self.kind).unwrap_or(0);
                    match key.code {
                        KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l') => {
                            self.kind = all[(at + 1) % all.len()]
                        }
                        KeyCode::Left | KeyCode::Char('h') => self.kind = all[(at + all.len() - 1) % all.len()],
                        _ => {}
                    }
                }
                1 => {
                    self.value.type_key(key);
                }
                2 => {
                    self.label.type_key(key);
                }
                _ => {
                    if matches!(key.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) {
                        self.primary = !self.primary;
                    }
                }
            },
        }
        FormResult::Editing
    }
}

// ---------------------------------------------------------------------------------- offline copy

/// Taking leads away in an offline copy: how many, for how long, into which file.
#[derive(Debug, Clone)]
pub struct CheckoutForm {
    pub leads: Field,
    pub hours: Field,
    pub file: Field,
    pub focus: usize,
}

/// What the checkout form asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutAsk {
    pub leads: u32,
    pub hours: u32,
    pub file: std::path::PathBuf,
}

impl CheckoutForm {
    pub fn new(default_file: &std::path::Path) -> Self {
        CheckoutForm {
            leads: Field::new("Leads", "leads", "50"),
            hours: Field::new("Hours", "hours", "72"),
            file: Field::new("File", "file", &default_file.to_string_lossy()),
            focus: 0,
        }
    }

    fn fields(&mut self) -> [&mut Field; 3] {
        [&mut self.leads, &mut self.hours, &mut self.file]
    }

    pub fn key(&mut self, key: &KeyEvent) -> FormResult<CheckoutAsk> {
        match key.code {
            KeyCode::Esc => return FormResult::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % 3,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + 2) % 3,
            KeyCode::Enter => {
                for field in self.fields() {
                    field.error = None;
                }
                let number = |field: &mut Field, max: u32| match field.value().trim().parse::<u32>() {
                    Ok(n) if (1..=max).contains(&n) => Some(n),
                    _ => {
                        field.error = Some(format!("a number from 1 to {max}"));
                        None
                    }
                };
                let leads = number(&mut self.leads, crate::store::offline::MAX_CHECKOUT_LEADS);
                let hours = number(&mut self.hours, crate::store::offline::MAX_CHECKOUT_HOURS);
                let file = self.file.value().trim().to_string();
                if file.is_empty() {
                    self.file.error = Some("is required".into());
                }
                return match (leads, hours) {
                    (Some(leads), Some(hours)) if !file.is_empty() => FormResult::Done(CheckoutAsk {
                        leads,
                        hours,
                        file: file.into(),
                    }),
                    _ => FormResult::Editing,
                };
            }
            _ => {
                let focus = self.focus;
                self.fields()[focus].type_key(key);
            }
        }
        FormResult::Editing
    }
}

// ---------------------------------------------------------------------------------- filter

#[derive(Debug, Clone)]
pub struct FilterForm {
    pub status: Option<LeadStatus>,
    pub priority: Option<Priority>,
    pub mine_only: bool,
    pub min_score: Field,
    pub max_score: Field,
    pub focus: usize,
    pub error: Option<String>,
}

impl FilterForm {
    pub fn new(current: &LeadFilter) -> Self {
        let score = |s: Option<i16>| s.map(|v| v.to_string()).unwrap_or_default();
        FilterForm {
            status: current.status,
            priority: current.priority,
            mine_only: current.assigned_to.is_some(),
            min_score: Field::new("Min score", "min_score", &score(current.min_score)),
            max_score: Field::new("Max score", "max_score", &score(current.max_score)),
            focus: 0,
            error: None,
        }
    }

    /// Returns the filter; `assigned_to` is filled in by the caller with the agent's id.
    pub fn key(&mut self, key: &KeyEvent, agent_id: i64) -> FormResult<LeadFilter> {
        match key.code {
            KeyCode::Esc => return FormResult::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % 5,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + 4) % 5,
            KeyCode::Enter => {
                let parse = |f: &Field| -> Result<Option<i16>, String> {
                    let v = f.value().trim();
                    if v.is_empty() {
                        return Ok(None);
                    }
                    match v.parse::<i16>() {
                        Ok(n) if (0..=100).contains(&n) => Ok(Some(n)),
                        _ => Err(format!("{}: '{v}' is not a score from 0 to 100", f.label)),
                    }
                };
                match (parse(&self.min_score), parse(&self.max_score)) {
                    (Ok(min_score), Ok(max_score)) => {
                        return FormResult::Done(LeadFilter {
                            status: self.status,
                            priority: self.priority,
                            assigned_to: self.mine_only.then_some(agent_id),
                            min_score,
                            max_score,
                            callbacks_due: false,
                        })
                    }
                    (Err(e), _) | (_, Err(e)) => self.error = Some(e),
                }
            }
            _ => {
                let forward = matches!(key.code, KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l'));
                let backward = matches!(key.code, KeyCode::Left | KeyCode::Char('h'));
                match self.focus {
                    0 if forward || backward => self.status = cycle_status(self.status, forward),
                    1 if forward || backward => self.priority = cycle_priority(self.priority, forward),
                    2 if forward || backward => self.mine_only = !self.mine_only,
                    3 => {
                        self.min_score.type_key(key);
                    }
                    4 => {
                        self.max_score.type_key(key);
                    }
                    _ => {}
                }
            }
        }
        FormResult::Editing
    }
}

fn cycle_priority(current: Option<Priority>, forward: bool) -> Option<Priority> {
    cycle(Priority::ALL, current, forward)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn code(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn form() -> OutcomeForm {
        OutcomeForm::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            60,
            crate::domain::disposition::default_dispositions(),
            Utc::now(),
        )
    }

    #[test]
    fn a_hotkey_and_enter_finish_the_outcome() {
        let mut f = form();
        assert_eq!(f.key(&key('i')), FormResult::Editing);
        match f.key(&code(KeyCode::Enter)) {
            FormResult::Done(o) => assert_eq!(o.disposition, "interested"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn enter_in_notes_is_a_new_line_and_saving_needs_an_outcome() {
        let mut f = form();
        assert_eq!(f.key(&code(KeyCode::Enter)), FormResult::Editing);
        assert!(f.error.is_some(), "no outcome picked");
        f.key(&code(KeyCode::Tab));
        for c in "line one".chars() {
            f.key(&key(c));
        }
        f.key(&code(KeyCode::Enter));
        f.key(&key('x'));
        assert_eq!(f.notes.value(), "line one\nx");
        f.key(&code(KeyCode::Esc));
        f.key(&key('n'));
        match f.key(&code(KeyCode::Enter)) {
            FormResult::Done(o) => {
                assert_eq!(o.disposition, "no_answer");
                assert_eq!(o.notes.as_deref(), Some("line one\nx"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_callback_needs_a_valid_time() {
        let mut f = form();
        f.key(&key('k'));
        f.callback.input = Input::new("next week".into());
        assert_eq!(f.key(&code(KeyCode::Enter)), FormResult::Editing);
        assert!(f.callback.error.as_deref().unwrap_or("").contains("not a time"));
        assert_eq!(f.focus, OutcomeFocus::Callback);
        f.callback.input = Input::new("2030-01-02 10:30".into());
        assert!(matches!(
            f.key(&code(KeyCode::Enter)),
            FormResult::Done(Outcome {
                callback_at: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn priority_in_the_edit_form_is_chosen_with_the_arrows() {
        let lead = crate::tui::app::tests::lead("Ada");
        let mut form = EditForm::new(&lead);
        while !form.on_priority() {
            form.key(&code(KeyCode::Tab), "US");
        }
        assert_eq!(form.priority(), Some(Priority::Medium));
        form.key(&key('x'), "US");
        assert_eq!(
            form.priority(),
            Some(Priority::Medium),
            "typing does not change a choice"
        );
        form.key(&code(KeyCode::Right), "US");
        assert_eq!(form.priority(), Some(Priority::High));
        form.key(&code(KeyCode::Left), "US");
        form.key(&code(KeyCode::Left), "US");
        assert_eq!(form.priority(), Some(Priority::Low));
        match form.key(&code(KeyCode::Enter), "US") {
            FormResult::Done(fields) => assert_eq!(fields.priority, Priority::Low),
            other => panic!("{other:?}"),
        }
    }

    /// The phone is shown grouped, as the detail shows it, and saves back to the stored number
    /// (a foreign one too, typed where the default region is another country's).
    #[test]
    fn the_edit_form_shows_the_phone_grouped_and_saves_the_same_number() {
        for (stored, shown) in [
            ("+12125550001", "+1 212-555-0001"),
            ("+442079460958", "+44 20 7946 0958"),
        ] {
            let mut lead = crate::tui::app::tests::lead("Ada");
            lead.phone = stored.into();
            let mut form = EditForm::new(&lead);
            let phone = form.fields.iter().find(|f| f.name == "phone").unwrap();
            assert_eq!(phone.value(), shown);
            match form.key(&code(KeyCode::Enter), "US") {
                FormResult::Done(fields) => assert_eq!(fields.phone, stored),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_callback_time_is_read_back_in_the_leads_zone_with_a_warning_at_night() {
        let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let mut f = form().for_lead(zone, CallingHours::default());
        f.key(&key('k'));
        let noon_there = Utc.with_ymd_and_hms(2030, 1, 2, 17, 0, 0).unwrap();
        let typed = noon_there.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string();
        f.callback.input = Input::new(typed);
        let time = f.callback_time().unwrap();
        assert_eq!(time.text, "= 12:00 Wed in America/New_York");
        assert!(!time.outside_hours);
        let night_there = Utc.with_ymd_and_hms(2030, 1, 2, 4, 0, 0).unwrap();
        f.callback.input = Input::new(night_there.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string());
        let time = f.callback_time().unwrap();
        assert!(time.outside_hours);
        assert_eq!(time.text, "= 23:00 Tue in America/New_York");
        assert_eq!(
            time.warning(f.hours()).as_deref(),
            Some("outside the lead's calling hours (08:00–21:00 there)")
        );
        f.callback.input = Input::new("soon".into());
        assert_eq!(f.callback_time(), None);
    }

    #[test]
    fn statuses_cycle_through_none() {
        assert_eq!(cycle_status(None, true), Some(LeadStatus::New));
        assert_eq!(cycle_status(Some(LeadStatus::New), false), None);
        assert_eq!(cycle_status(None, false), Some(*LeadStatus::ALL.last().unwrap()));
    }
}
