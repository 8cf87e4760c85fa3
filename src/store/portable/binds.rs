//! Parameter layouts that several statements share, as macros so they serve `query` and
//! `query_as` on either backend alike.

/// Binds $1 id, $2–$15 the lead's fields through consent, $16 now, $17–$19 the flags and data
/// quality, $20 the actor: the shared parameter layout of the lead insert, the edit and the
/// import's update. A macro, so it serves `query` and `query_as` alike.
macro_rules! bind_lead {
    ($query:expr, $id:expr, $fields:expr, $now:expr, $actor:expr) => {{
        let f: &crate::domain::LeadFields = $fields;
        $query
            .bind($id)
            .bind(&f.first_name)
            .bind(&f.last_name)
            .bind(&f.email)
            .bind(&f.phone)
            .bind(&f.company)
            .bind(&f.title)
            .bind(&f.timezone)
            .bind(f.status)
            .bind(f.priority)
            .bind(f.lead_score)
            .bind(f.conversion_probability)
            .bind(&f.source)
            .bind(&f.notes)
            .bind(f.consent_given)
            .bind($now)
            .bind(f.do_not_call)
            .bind(f.do_not_email)
            .bind(f.data_quality())
            .bind($actor)
    }};
}

pub(crate) use bind_lead;

/// Binds the list filters' parameters ($1–$7, see `FILTERS`) on any query that uses them.
macro_rules! bind_filters {
    ($query:expr, $filter:expr, $now:expr) => {
        $query
            .bind($filter.status)
            .bind($filter.priority)
            .bind($filter.assigned_to)
            .bind($filter.min_score)
            .bind($filter.max_score)
            .bind($now)
            .bind($filter.callbacks_due)
    };
}
pub(crate) use bind_filters;
