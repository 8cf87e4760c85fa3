//! `coldcall stats`: today's figures (or a chosen period) per agent and for the floor, and the
//! lead funnel by status.

use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Utc};
use clap::Args;

use super::output::table;
use super::{CliError, Ctx};

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// First day, YYYY-MM-DD on this computer's clock (default: today)
    #[arg(long)]
    from: Option<String>,
    /// Last day, inclusive (default: the first day)
    #[arg(long)]
    to: Option<String>,
}

pub(super) fn day_start(text: &str) -> Result<DateTime<Utc>, CliError> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| CliError::Usage(format!("'{text}' is not a day (use YYYY-MM-DD)")))?;
    let start = Local
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| CliError::Usage(format!("{text} has no midnight on this clock")))?;
    // Callers add a day to the last one; a day near chrono's end would overflow, and no call
    // lies outside the times coldcall writes anyway (a sane start leaves room for that day).
    if !crate::domain::bounds::is_sane(start) {
        return Err(CliError::Usage(format!(
            "'{text}' is outside the days coldcall keeps (2000-01-01 to 2099-12-31)"
        )));
    }
    Ok(start)
}

pub async fn run(ctx: &Ctx, args: StatsArgs) -> Result<(), CliError> {
    let today = ctx.store.now().with_timezone(&Local).format("%Y-%m-%d").to_string();
    let first = args.from.unwrap_or(today);
    let last = args.to.unwrap_or_else(|| first.clone());
    let from = day_start(&first)?;
    let to = day_start(&last)? + Duration::days(1);
    let figures = ctx.store.floor_figures(from, to).await?;
    ctx.out.show(&figures, || {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for a in figures.agents.iter().chain(std::iter::once(&figures.total())) {
            rows.push(vec![
                a.agent_name.clone(),
                a.calls.to_string(),
                a.contacts.to_string(),
                crate::tui::view::clock(a.talk_seconds),
                crate::tui::view::clock(a.average_call_seconds()),
                a.conversions.to_string(),
            ]);
        }
        let funnel: Vec<String> = figures
            .funnel
            .iter()
            .map(|(s, n)| format!("{} {n}", s.label()))
            .collect();
        format!(
            "{first} to {last}\n{}\nleads: {}",
            table(
                &["AGENT", "CALLS", "CONTACTS", "TALK", "AVG CALL", "CONVERSIONS"],
                &rows
            ),
            funnel.join(" · ")
        )
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_outside_the_kept_range_is_refused_not_a_panic() {
        assert!(day_start("2026-12-03").is_ok());
        assert!(
            day_start("2099-12-31").is_ok(),
            "the last day named in the message is taken"
        );
        // chrono's last day, where adding one would panic: refused whichever check catches it
        for day in ["+262143-12-31", "262143-12-31"] {
            assert!(day_start(day).is_err(), "{day}");
        }
        for day in ["9999-12-31", "2100-01-01", "1999-12-31"] {
            let refused = day_start(day).unwrap_err().to_string();
            assert!(refused.contains("outside the days"), "{day}: {refused}");
        }
    }
}
