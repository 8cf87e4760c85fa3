//! Who may do what. Every role check of the store, the server and the console asks this module,
//! so a rule about roles is written once and tested here.

use std::fmt;

use super::Role;

/// Actions that need more than the agent role. An agent's own work (claim, call, outcome, status,
/// edits, contacts, their own callbacks) needs no permission beyond being a live agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// End a call that another agent is on (`call end --force`).
    EndOthersCall,
    /// Release another agent's call lock with a reason.
    ReleaseLock,
    /// Give a lead to someone other than oneself.
    AssignToOther,
    /// Hand an open callback to another agent.
    HandCallback,
    /// Watch the floor: every agent's state and the day's figures.
    WatchFloor,
    /// Export everything held about a person.
    ExportPersonalData,
    /// Erase a person's data.
    ErasePersonalData,
    /// Merge two leads that are one person into one.
    MergeLeads,
    /// Add, enrol, deactivate and revoke agents (the floor's accounts).
    ManageAgents,
    /// Change a shared setting (calling hours, minimum gap, lock TTL, attempts).
    ChangeSettings,
    /// Change the dispositions the floor ends calls with.
    ManageDispositions,
    /// Store the call scripts agents read during calls.
    ManageScripts,
    /// Load leads or do-not-call numbers from a file.
    ImportData,
    /// Write leads or calls out to a file.
    ExportData,
    /// Back the whole database up, or restore it.
    BackupRestore,
    /// Migrate, roll back, reset or seed the database.
    ManageDatabase,
    /// Take a number off the do-not-call list (putting one on is anyone's duty).
    RemoveFromDnc,
    /// Check leads out to an offline copy for another agent (one's own checkout is anyone's).
    CheckOutForOthers,
}

impl Permission {
    /// The least role that holds this permission.
    pub fn least_role(self) -> Role {
        match self {
            Permission::EndOthersCall
            | Permission::ReleaseLock
            | Permission::AssignToOther
            | Permission::HandCallback
            | Permission::WatchFloor
            | Permission::ExportPersonalData
            | Permission::ErasePersonalData
            | Permission::MergeLeads => Role::Supervisor,
            Permission::ManageAgents
            | Permission::ChangeSettings
            | Permission::ManageDispositions
            | Permission::ManageScripts
            | Permission::ImportData
            | Permission::ExportData
            | Permission::BackupRestore
            | Permission::ManageDatabase
            | Permission::RemoveFromDnc
            | Permission::CheckOutForOthers => Role::Admin,
        }
    }

    /// What the permission allows, as the end of "only a supervisor or admin can …".
    pub fn describe(self) -> &'static str {
        match self {
            Permission::EndOthersCall => "end another agent's call",
            Permission::ReleaseLock => "release another agent's call",
            Permission::AssignToOther => "assign a lead to another agent",
            Permission::HandCallback => "hand a callback to another agent",
            Permission::WatchFloor => "watch the floor",
            Permission::ExportPersonalData => "export a person's data",
            Permission::ErasePersonalData => "erase a person's data",
            Permission::MergeLeads => "merge two leads",
            Permission::ManageAgents => "manage agents",
            Permission::ChangeSettings => "change the floor's settings",
            Permission::ManageDispositions => "change the dispositions",
            Permission::ManageScripts => "store call scripts",
            Permission::ImportData => "import data",
            Permission::ExportData => "export data",
            Permission::BackupRestore => "back up or restore the database",
            Permission::ManageDatabase => "run database commands",
            Permission::RemoveFromDnc => "take a number off the do-not-call list",
            Permission::CheckOutForOthers => "check leads out for another agent",
        }
    }
}

/// Rank of a role: a higher role holds every permission of a lower one.
fn rank(role: Role) -> u8 {
    match role {
        Role::Agent => 0,
        Role::Supervisor => 1,
        Role::Admin => 2,
    }
}

/// The refusal of an action to a role that does not hold its permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub actor: String,
    pub role: Role,
    pub permission: Permission,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.permission.least_role() {
            Role::Admin => "an admin",
            _ => "a supervisor or admin",
        };
        let article = if matches!(self.role, Role::Admin | Role::Agent) {
            "an"
        } else {
            "a"
        };
        write!(
            f,
            "only {who} can {}; {} is {article} {}",
            self.permission.describe(),
            self.actor,
            self.role.as_str()
        )
    }
}

/// Whether `role` holds `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    rank(role) >= rank(permission.least_role())
}

/// Ok when the actor's role holds the permission; otherwise the refusal, naming the actor.
pub fn authorize(actor: &str, role: Role, permission: Permission) -> Result<(), Forbidden> {
    if allows(role, permission) {
        Ok(())
    } else {
        Err(Forbidden {
            actor: actor.to_string(),
            role,
            permission,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERVISOR: [Permission; 8] = [
        Permission::EndOthersCall,
        Permission::ReleaseLock,
        Permission::AssignToOther,
        Permission::HandCallback,
        Permission::WatchFloor,
        Permission::ExportPersonalData,
        Permission::ErasePersonalData,
        Permission::MergeLeads,
    ];

    const ADMIN: [Permission; 10] = [
        Permission::ManageAgents,
        Permission::ChangeSettings,
        Permission::ManageDispositions,
        Permission::ManageScripts,
        Permission::ImportData,
        Permission::ExportData,
        Permission::BackupRestore,
        Permission::ManageDatabase,
        Permission::RemoveFromDnc,
        Permission::CheckOutForOthers,
    ];

    const ALL: [Permission; 18] = {
        let mut all = [Permission::EndOthersCall; 18];
        let mut i = 0;
        while i < 8 {
            all[i] = SUPERVISOR[i];
            i += 1;
        }
        let mut j = 0;
        while j < 10 {
            all[8 + j] = ADMIN[j];
            j += 1;
        }
        all
    };

    #[test]
    fn agents_hold_none_of_the_supervisor_permissions_and_admins_hold_all() {
        for p in SUPERVISOR {
            assert!(!allows(Role::Agent, p), "{p:?}");
            assert!(allows(Role::Supervisor, p), "{p:?}");
            assert!(allows(Role::Admin, p), "{p:?}");
        }
    }

    #[test]
    fn only_admins_manage_agents_settings_data_and_the_database() {
        for p in ADMIN {
            assert!(!allows(Role::Agent, p), "{p:?}");
            assert!(!allows(Role::Supervisor, p), "{p:?}");
            assert!(allows(Role::Admin, p), "{p:?}");
        }
        let err = authorize("sam", Role::Supervisor, Permission::ChangeSettings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "only an admin can change the floor's settings; sam is a supervisor"
        );
    }

    #[test]
    fn a_refusal_names_the_actor_their_role_and_the_action() {
        let err = authorize("alice", Role::Agent, Permission::ReleaseLock).unwrap_err();
        assert_eq!(
            err.to_string(),
            "only a supervisor or admin can release another agent's call; alice is an agent"
        );
        assert!(authorize("sam", Role::Supervisor, Permission::ReleaseLock).is_ok());
    }

    #[test]
    fn a_higher_role_keeps_every_permission_of_a_lower_one() {
        for p in ALL {
            for (low, high) in [(Role::Agent, Role::Supervisor), (Role::Supervisor, Role::Admin)] {
                assert!(
                    !allows(low, p) || allows(high, p),
                    "{p:?}: {low} has it but {high} does not"
                );
            }
        }
    }
}
