//! The agent console: a full-screen terminal UI over the same store the command line uses.
//! `app` holds state and rules of interaction (split by feature), `view` draws it, `request` is
//! the async boundary to the database, `keymap` the bindings, `forms` the dialogs, `feed` keeps
//! it live, `phone` follows softphone calls, `floor` is the supervisor's view, `terminal` the event loop.

pub mod app;
pub mod connecting;
pub mod feed;
pub mod floor;
pub mod forms;
pub mod keymap;
pub mod phone;
pub mod request;
pub mod terminal;
pub mod view;
