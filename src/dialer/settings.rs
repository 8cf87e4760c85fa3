//! The `[dial]` section of the config: which softphone this terminal dials through.
//!
//! ```toml
//! [dial]
//! softphone = "baresip"
//! control = "127.0.0.1:4444"            # baresip's ctrl_tcp_listen
//! uri = "sip:{number}@gateway.example"  # {number} is the lead's number in E.164
//! ring_timeout_seconds = 30
//! ```
//!
//! or, for any other softphone, a command run when a call starts (and one when it ends):
//!
//! ```toml
//! [dial]
//! command = ["softphone", "--dial", "{number}"]
//! hangup = ["softphone", "--hangup"]
//! ```
//!
//! The section is checked when the config is read, so a mistake is reported at start-up with
//! the file's name rather than at the first call.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::hook::DialHook;

/// Where baresip's `ctrl_tcp` listens by default.
pub const DEFAULT_CONTROL: &str = "127.0.0.1:4444";
pub const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(30);
/// Short enough limits that a typo (300 for 30) is caught, long enough for any real line.
const RING_TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 5..=180;
const URI_MAX: usize = 256;

/// The softphone of this terminal, checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "DialSection")]
pub enum Softphone {
    /// A command run at the start and end of each call; no call progress.
    Command(DialHook),
    /// baresip driven over its control socket, with call progress.
    Baresip(BaresipSettings),
}

impl Softphone {
    /// The command hook, for the consoles that run one.
    pub fn hook(&self) -> Option<&DialHook> {
        match self {
            Softphone::Command(hook) => Some(hook),
            Softphone::Baresip(_) => None,
        }
    }

    pub fn baresip(&self) -> Option<&BaresipSettings> {
        match self {
            Softphone::Baresip(settings) => Some(settings),
            Softphone::Command(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaresipSettings {
    /// baresip's control socket. ctrl_tcp has no authentication: whoever reaches it can place
    /// calls, which is why only loopback is accepted unless explicitly allowed.
    pub control: SocketAddr,
    pub uri: UriTemplate,
    /// How long a call may go unanswered, from the dial, before coldcall hangs up.
    pub ring_timeout: Duration,
}

impl BaresipSettings {
    pub fn new(control: SocketAddr, uri: UriTemplate, ring_timeout: Duration) -> BaresipSettings {
        BaresipSettings {
            control,
            uri,
            ring_timeout,
        }
    }
}

/// A SIP URI with `{number}` where the number goes, e.g. `sip:{number}@gateway.example`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate(String);

impl UriTemplate {
    pub fn parse(template: &str) -> Result<UriTemplate, String> {
        if !(template.starts_with("sip:") || template.starts_with("sips:")) {
            return Err(format!("uri {template:?} must start with sip: or sips:"));
        }
        if template.matches("{number}").count() != 1 {
            return Err(format!(
                "uri {template:?} must hold {{number}} once, where the number goes"
            ));
        }
        if template.len() > URI_MAX {
            return Err(format!("uri is longer than {URI_MAX} characters"));
        }
        // baresip reads a command as one line split at spaces; a quote or a control character
        // in a URI is a mistake in any case.
        if template
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        {
            return Err(format!(
                "uri {template:?} must not contain spaces, quotes or control characters"
            ));
        }
        Ok(UriTemplate(template.to_string()))
    }

    /// The URI for one number, which must be in E.164 (`+` and up to 15 digits), as the lead
    /// store keeps numbers.
    pub fn for_number(&self, number: &str) -> Result<String, String> {
        let digits = number
            .strip_prefix('+')
            .ok_or_else(|| format!("{number:?} is not an E.164 number (it must start with +)"))?;
        if !(2..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(format!("{number:?} is not an E.164 number (+ and 2 to 15 digits)"));
        }
        Ok(self.0.replace("{number}", number))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Command,
    Baresip,
}

/// The section as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DialSection {
    softphone: Option<Kind>,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    hangup: Vec<String>,
    control: Option<String>,
    uri: Option<String>,
    ring_timeout_seconds: Option<u64>,
    #[serde(default)]
    allow_remote_control: bool,
}

impl TryFrom<DialSection> for Softphone {
    type Error = String;

    fn try_from(s: DialSection) -> Result<Softphone, String> {
        let kind = match s.softphone {
            Some(kind) => kind,
            None if !s.command.is_empty() => Kind::Command,
            None => return Err("[dial] needs softphone = \"baresip\" or a command to run".into()),
        };
        match kind {
            Kind::Command => {
                if s.command.is_empty() {
                    return Err("[dial] command is empty".into());
                }
                if s.control.is_some() || s.uri.is_some() || s.ring_timeout_seconds.is_some() || s.allow_remote_control
                {
                    return Err("[dial] control, uri and ring_timeout_seconds are for softphone = \"baresip\"".into());
                }
                Ok(Softphone::Command(DialHook {
                    command: s.command,
                    hangup: s.hangup,
                }))
            }
            Kind::Baresip => {
                if !s.command.is_empty() || !s.hangup.is_empty() {
                    return Err("[dial] command and hangup are not used with softphone = \"baresip\"".into());
                }
                let uri = s
                    .uri
                    .ok_or("[dial] softphone = \"baresip\" needs uri, e.g. \"sip:{number}@gateway.example\"")?;
                let control = control_address(s.control.as_deref().unwrap_or(DEFAULT_CONTROL), s.allow_remote_control)?;
                let ring_timeout = match s.ring_timeout_seconds {
                    None => DEFAULT_RING_TIMEOUT,
                    Some(secs) if RING_TIMEOUT_RANGE.contains(&secs) => Duration::from_secs(secs),
                    Some(secs) => {
                        return Err(format!(
                            "[dial] ring_timeout_seconds = {secs} is outside {}..={}",
                            RING_TIMEOUT_RANGE.start(),
                            RING_TIMEOUT_RANGE.end()
                        ))
                    }
                };
                Ok(Softphone::Baresip(BaresipSettings {
                    control,
                    uri: UriTemplate::parse(&uri).map_err(|e| format!("[dial] {e}"))?,
                    ring_timeout,
                }))
            }
        }
    }
}

/// An IP and port (no host names: nothing to resolve, nothing to spoof), on loopback unless
/// `allow_remote` says otherwise.
fn control_address(text: &str, allow_remote: bool) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|_| format!("[dial] control = {text:?} is not an address such as \"127.0.0.1:4444\""))?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "[dial] control = {text:?} is not on this machine; baresip's control socket has no password, \
             so set allow_remote_control = true only on a network you trust"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Softphone, String> {
        toml::from_str::<Softphone>(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn baresip_settings_are_read_with_defaults() {
        let phone = parse("softphone = \"baresip\"\nuri = \"sip:{number}@gateway.example\"\n").unwrap();
        let settings = phone.baresip().unwrap();
        assert_eq!(settings.control, DEFAULT_CONTROL.parse().unwrap());
        assert_eq!(settings.ring_timeout, DEFAULT_RING_TIMEOUT);
        assert_eq!(
            settings.uri.for_number("+12125550100").unwrap(),
            "sip:+12125550100@gateway.example"
        );
        assert!(phone.hook().is_none());

        let phone = parse(
            "softphone = \"baresip\"\ncontrol = \"127.0.0.1:5555\"\nuri = \"sips:{number}@10.0.0.1:5061\"\nring_timeout_seconds = 20\n",
        )
        .unwrap();
        let settings = phone.baresip().unwrap();
        assert_eq!(settings.control.port(), 5555);
        assert_eq!(settings.ring_timeout, Duration::from_secs(20));
    }

    #[test]
    fn the_command_hook_is_kept() {
        let phone = parse("command = [\"softphone\", \"{number}\"]\nhangup = [\"softphone\", \"--hangup\"]\n").unwrap();
        assert_eq!(phone.hook().unwrap().hangup, ["softphone", "--hangup"]);
        assert!(parse("softphone = \"command\"\ncommand = [\"x\"]\n")
            .unwrap()
            .hook()
            .is_some());
    }

    #[test]
    fn mistakes_are_refused_in_words() {
        let refused = |text: &str, words: &str| {
            let err = parse(text).unwrap_err();
            assert!(err.contains(words), "{text:?} → {err}");
        };
        refused("softphone = \"baresip\"\nuri = \"sip:bob@gateway.example\"", "{number}");
        refused("softphone = \"baresip\"\nuri = \"sip:{number}@a {number}\"", "{number}");
        refused("softphone = \"baresip\"\nuri = \"tel:{number}\"", "sip:");
        refused("softphone = \"baresip\"\nuri = \"sip:{number}@a b\"", "spaces");
        refused("softphone = \"baresip\"", "needs uri");
        refused(
            "softphone = \"baresip\"\nuri = \"sip:{number}@g\"\ncontrol = \"192.168.1.5:4444\"",
            "not on this machine",
        );
        refused(
            "softphone = \"baresip\"\nuri = \"sip:{number}@g\"\ncontrol = \"localhost\"",
            "not an address",
        );
        refused(
            "softphone = \"baresip\"\nuri = \"sip:{number}@g\"\nring_timeout_seconds = 900",
            "outside",
        );
        refused(
            "softphone = \"baresip\"\nuri = \"sip:{number}@g\"\ncommand = [\"x\"]",
            "not used",
        );
        refused("softphone = \"skype\"", "skype");
        refused("", "needs softphone");
        refused("command = [\"x\"]\nuri = \"sip:{number}@g\"", "for softphone");
        refused("softphone = \"baresip\"\nuri = \"sip:{number}@g\"\nport = 1", "port");
    }

    #[test]
    fn the_config_file_holds_the_section() {
        let config =
            crate::config::parse("[dial]\nsoftphone = \"baresip\"\nuri = \"sip:{number}@gateway.example\"\n").unwrap();
        assert!(config.dial.unwrap().baresip().is_some());
        let err = crate::config::parse("[dial]\nsoftphone = \"baresip\"\n").unwrap_err();
        assert!(err.contains("needs uri") && err.contains("line"), "{err}");
    }

    #[test]
    fn a_remote_control_socket_must_be_allowed() {
        let phone = parse(
            "softphone = \"baresip\"\nuri = \"sip:{number}@g\"\ncontrol = \"10.1.2.3:4444\"\nallow_remote_control = true",
        )
        .unwrap();
        assert_eq!(phone.baresip().unwrap().control, "10.1.2.3:4444".parse().unwrap());
        assert!(parse("softphone = \"baresip\"\nuri = \"sip:{number}@g\"\ncontrol = \"[::1]:4444\"").is_ok());
    }

    #[test]
    fn only_e164_numbers_are_dialled() {
        let uri = UriTemplate::parse("sip:{number}@g").unwrap();
        for bad in [
            "12125550100",
            "+",
            "+0123",
            "+1 212",
            "+1212555010012345",
            "+12;x=1",
            "+١٢٣",
        ] {
            assert!(uri.for_number(bad).is_err(), "{bad:?}");
        }
        assert_eq!(uri.for_number("+44").unwrap(), "sip:+44@g");
    }
}
