//! The baresip client against real baresip processes on loopback, with no SIP server: the
//! agent's phone dials far ends that answer by themselves, ring until someone answers, reject
//! the call as busy, or do not know the number. `scripts/install-baresip` installs baresip.

#[path = "common/baresip.rs"]
mod phones;

use std::time::Duration;

use chrono::{DateTime, Utc};
use coldcall::dialer::baresip::{dial, Call, DialError};
use coldcall::dialer::{BaresipSettings, CallOutcome, Ended, EndedBy, Progress, UriTemplate};
use phones::{tone_wav, Answer, Baresip, Remote};

const LEAD: &str = "+12125550100";
const STEP: Duration = Duration::from_secs(10);

/// The agent's phone and one far end answering the lead's number.
async fn line(answer: Answer) -> (Baresip, Baresip) {
    let audio = tone_wav(60);
    let agent = Baresip::start("agent", "agent", Answer::Manual, &audio).await;
    let lead = Baresip::start("lead", LEAD, answer, &audio).await;
    (agent, lead)
}

fn settings(agent: &Baresip, lead: &Baresip, ring_timeout: Duration) -> BaresipSettings {
    BaresipSettings::new(
        agent.control,
        UriTemplate::parse(&lead.uri_template()).unwrap(),
        ring_timeout,
    )
}

async fn next(call: &mut Call) -> Progress {
    tokio::time::timeout(STEP, call.next())
        .await
        .expect("progress within 10 s")
        .expect("the call reports until it has ended")
}

/// Reads progress until the end, checking the order; returns every step.
async fn until_end(call: &mut Call) -> (Vec<Progress>, Ended) {
    let mut steps = Vec::new();
    loop {
        match next(call).await {
            Progress::Ended(end) => {
                assert!(
                    tokio::time::timeout(STEP, call.next()).await.unwrap().is_none(),
                    "nothing after the end"
                );
                return (steps, end);
            }
            step => steps.push(step),
        }
    }
}

/// Waits for the answer, through an optional ringing; returns both times.
async fn answer(call: &mut Call) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    match next(call).await {
        Progress::Answered { at } => (None, at),
        Progress::Ringing { at: ringing_at } => match next(call).await {
            Progress::Answered { at } => (Some(ringing_at), at),
            other => panic!("expected the answer, got {other:?}"),
        },
        other => panic!("expected ringing or the answer, got {other:?}"),
    }
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_call_times_the_talk_not_the_ringing() {
    let (agent, lead) = line(Answer::Manual).await;
    let mut remote = Remote::connect(&lead).await;
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), LEAD)
        .await
        .unwrap();
    assert_eq!(call.uri(), format!("sip:{LEAD}@127.0.0.1:{}", lead.sip_port));
    let Progress::Dialling { at: dialled_at, .. } = next(&mut call).await else {
        panic!("the first step is dialling")
    };
    remote.event("CALL_INCOMING", STEP).await;
    let Progress::Ringing { at: ringing_at } = next(&mut call).await else {
        panic!("the far end rings")
    };
    // The lead lets it ring a moment before picking up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    remote.send("accept").await;
    let Progress::Answered { at: answered_at } = next(&mut call).await else {
        panic!("the far end answered")
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    call.hangup();
    let (rest, end) = until_end(&mut call).await;
    assert!(rest.is_empty(), "{rest:?}");

    assert_eq!(end.outcome(), CallOutcome::Completed);
    assert_eq!(end.by, EndedBy::Agent);
    assert_eq!(
        (end.dialled_at, end.ringing_at, end.answered_at),
        (dialled_at, Some(ringing_at), Some(answered_at))
    );
    assert!(
        secs(ringing_at, answered_at) >= 1.4,
        "ringing lasted {}",
        secs(ringing_at, answered_at)
    );
    // Ringing included, it would be 4.5 s or more.
    let talk = secs(answered_at, end.at);
    assert!((2.9..4.0).contains(&talk), "talk lasted {talk} s");
    assert_eq!(
        end.talk_seconds(),
        talk.round() as i64,
        "duration is the talk, not the ringing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_end_that_answers_by_itself() {
    let (agent, lead) = line(Answer::Auto).await;
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), LEAD)
        .await
        .unwrap();
    assert!(matches!(next(&mut call).await, Progress::Dialling { .. }));
    // Auto-answer still sends 180 before the 200, a moment apart.
    let (ringing_at, answered_at) = answer(&mut call).await;
    assert!(secs(ringing_at.unwrap(), answered_at) < 0.5);
    tokio::time::sleep(Duration::from_secs(3)).await;
    call.hangup();
    call.hangup();
    let (_, end) = until_end(&mut call).await;
    assert_eq!(
        (end.outcome(), end.ringing_at, end.answered_at),
        (CallOutcome::Completed, ringing_at, Some(answered_at))
    );
    assert_eq!(end.talk_seconds(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_far_end_hanging_up_ends_the_call() {
    let audio = tone_wav(60);
    let agent = Baresip::start("agent", "agent", Answer::Manual, &audio).await;
    // baresip ends a call when its audio file runs out: this lead talks for two seconds and
    // hangs up.
    let lead = Baresip::start("lead", LEAD, Answer::Auto, &tone_wav(2)).await;
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), LEAD)
        .await
        .unwrap();
    let (steps, end) = until_end(&mut call).await;
    assert!(matches!(steps.last(), Some(Progress::Answered { .. })), "{steps:?}");
    assert_eq!(
        (end.by, end.outcome()),
        (EndedBy::Remote, CallOutcome::Completed),
        "{end:?}"
    );
    assert!((1..=3).contains(&end.talk_seconds()), "{end:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_line_ends_as_busy() {
    let (agent, lead) = line(Answer::Manual).await;
    let mut remote = Remote::connect(&lead).await;
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), LEAD)
        .await
        .unwrap();
    // The lead's phone rejects the call: baresip answers an incoming call it hangs up with
    // "486 Rejected" (call_hangup in baresip 1.0.0). call_max_calls 0 cannot do this: 0 means
    // no limit.
    remote.event("CALL_INCOMING", STEP).await;
    remote.send("hangup").await;
    let (_, end) = until_end(&mut call).await;
    assert_eq!(
        (end.sip_status, end.by, end.outcome()),
        (Some(486), EndedBy::Remote, CallOutcome::Busy),
        "{end:?}"
    );
    assert_eq!(end.outcome().disposition(), Some("busy"));
    assert_eq!(end.talk_seconds(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_call_ends_at_the_ring_timeout() {
    let (agent, lead) = line(Answer::Manual).await;
    let ring_timeout = Duration::from_secs(4);
    let mut call = dial(&settings(&agent, &lead, ring_timeout), LEAD).await.unwrap();
    let (steps, end) = until_end(&mut call).await;
    assert!(
        matches!(steps.as_slice(), [Progress::Dialling { .. }, Progress::Ringing { .. }]),
        "{steps:?}"
    );
    assert_eq!(
        (end.by, end.outcome(), end.answered_at),
        (EndedBy::RingTimeout, CallOutcome::NoAnswer, None)
    );
    assert_eq!(end.reason, "no answer within 4 s");
    let waited = secs(end.dialled_at, end.at);
    assert!((3.9..5.0).contains(&waited), "ended after {waited} s");
    assert_eq!(end.outcome().disposition(), Some("no_answer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dropped_by_the_console_is_hung_up() {
    let (agent, lead) = line(Answer::Manual).await;
    let mut remote = Remote::connect(&lead).await;
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), LEAD)
        .await
        .unwrap();
    remote.event("CALL_INCOMING", STEP).await;
    assert!(matches!(next(&mut call).await, Progress::Dialling { .. }));
    drop(call);
    // The lead's phone stops ringing: no call is left up with nobody to record it.
    remote.event("CALL_CLOSED", Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_number_fails() {
    let (agent, lead) = line(Answer::Auto).await;
    // The far end knows only LEAD: any other number is "404 Not Found".
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), "+12125550199")
        .await
        .unwrap();
    let (_, end) = until_end(&mut call).await;
    assert_eq!(
        (end.sip_status, end.outcome()),
        (Some(404), CallOutcome::Failed),
        "{end:?}"
    );
    assert_eq!(end.outcome().disposition(), Some("wrong_number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_softphone_killed_mid_call_still_ends_the_call() {
    let (mut agent, lead) = line(Answer::Auto).await;
    let mut call = dial(&settings(&agent, &lead, Duration::from_secs(30)), LEAD)
        .await
        .unwrap();
    assert!(matches!(next(&mut call).await, Progress::Dialling { .. }));
    answer(&mut call).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    agent.kill().await;
    let killed_at = Utc::now();
    let (_, end) = until_end(&mut call).await;
    assert_eq!(
        (end.by, end.outcome()),
        (EndedBy::SoftphoneLost, CallOutcome::Completed)
    );
    assert!(end.reason.contains("baresip stopped"), "{}", end.reason);
    assert!(
        secs(killed_at, end.at) < 1.0,
        "noticed after {} s",
        secs(killed_at, end.at)
    );
    assert_eq!(end.talk_seconds(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_absent_or_failing_to_dial_is_said_in_words() {
    let audio = tone_wav(60);
    let agent = Baresip::start("agent", "agent", Answer::Manual, &audio).await;
    let nobody: std::net::SocketAddr = {
        // A port that was free a moment ago: nothing listens there.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let template = UriTemplate::parse("sip:{number}@127.0.0.1:5999").unwrap();
    let err = dial(
        &BaresipSettings::new(nobody, template.clone(), Duration::from_secs(30)),
        LEAD,
    )
    .await
    .unwrap_err();
    assert_eq!(err, DialError::NotRunning(nobody));
    assert_eq!(
        err.to_string(),
        format!("baresip is not running: nothing listens on {nobody}")
    );

    let err = dial(
        &BaresipSettings::new(agent.control, template, Duration::from_secs(30)),
        "2125550100",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DialError::BadNumber(_)), "{err}");

    // A URI baresip cannot use, and a gateway that refuses connections: the dial is
    // accepted, then the call ends at once, failed, with baresip's reason in words.
    for uri in ["sip:{number}@", "sip:{number}@127.0.0.1:9;transport=tcp"] {
        let template = UriTemplate::parse(uri).unwrap();
        let mut call = dial(
            &BaresipSettings::new(agent.control, template, Duration::from_secs(30)),
            LEAD,
        )
        .await
        .unwrap();
        let (_, end) = until_end(&mut call).await;
        println!("{uri}: {}", end.reason);
        assert_eq!(
            (end.by, end.outcome()),
            (EndedBy::Remote, CallOutcome::Failed),
            "{end:?}"
        );
        assert!(secs(end.dialled_at, end.at) < 1.0, "{end:?}");
    }
    // Over UDP a dead gateway is silence: the ring timeout ends it, and says it never rang.
    let template = UriTemplate::parse("sip:{number}@127.0.0.1:9").unwrap();
    let mut call = dial(
        &BaresipSettings::new(agent.control, template, Duration::from_secs(3)),
        LEAD,
    )
    .await
    .unwrap();
    let (_, end) = until_end(&mut call).await;
    assert_eq!((end.by, end.outcome()), (EndedBy::RingTimeout, CallOutcome::NoAnswer));
    assert_eq!(end.reason, "no answer within 3 s; it never rang");
}

/// Time from our `dial` to the INVITE reaching the far end (its CALL_INCOMING, read on its
/// control socket) and from the far end's `accept` to our Answered. Printed for the record;
/// the bounds only catch something badly wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measured_latencies() {
    let (agent, lead) = line(Answer::Manual).await;
    let mut remote = Remote::connect(&lead).await;
    let settings = settings(&agent, &lead, Duration::from_secs(30));
    let (mut invite, mut answer) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let mut call = dial(&settings, LEAD).await.unwrap();
        let Progress::Dialling { at: dialled_at, .. } = next(&mut call).await else {
            panic!("dialling")
        };
        let (_, incoming_at) = remote.event("CALL_INCOMING", STEP).await;
        assert!(matches!(next(&mut call).await, Progress::Ringing { .. }));
        let accepted_at = remote.send("accept").await;
        let Progress::Answered { at: answered_at } = next(&mut call).await else {
            panic!("answered")
        };
        invite.push(secs(dialled_at, incoming_at) * 1000.0);
        answer.push(secs(accepted_at, answered_at) * 1000.0);
        call.hangup();
        until_end(&mut call).await;
        remote.event("CALL_CLOSED", STEP).await;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (invite_ms, answer_ms) = (median(&mut invite), median(&mut answer));
    println!("dial → INVITE at the far end: median {invite_ms:.1} ms of {invite:.1?}");
    println!("far end's answer → Answered: median {answer_ms:.1} ms of {answer:.1?}");
    assert!(invite_ms < 500.0 && answer_ms < 500.0);
}
