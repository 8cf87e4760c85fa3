SET LOCAL statement_timeout = 0;
DROP INDEX leads_search_idx;
ALTER TABLE leads DROP COLUMN search_doc;
CREATE INDEX leads_search_idx ON leads USING GIN (to_tsvector('simple',
    first_name || ' ' || last_name || ' ' || company || ' ' || coalesce(email, '') || ' ' ||
    coalesce(title, '') || ' ' || coalesce(notes, '')));
