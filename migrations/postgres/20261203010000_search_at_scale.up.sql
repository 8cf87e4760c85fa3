-- Search at scale: the search document is stored with its lead, so a search that walks the list
-- order (a common word, where the first matches come soon) tests each lead it reads against the
-- stored tsvector instead of building it from six columns: on a million leads a surname read
-- about 9,300 leads to find 200: 111 ms with to_tsvector per lead (12 µs each), 17 ms stored.
-- `leads_search_idx` indexes the same document as before, now that column.
--
-- Adding the column rewrites the table and builds its indexes again (about two minutes on a
-- million leads), so it runs without the sessions' statement timeout.
SET LOCAL statement_timeout = 0;
DROP INDEX leads_search_idx;
ALTER TABLE leads ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (to_tsvector('simple',
    first_name || ' ' || last_name || ' ' || company || ' ' || coalesce(email, '') || ' ' ||
    coalesce(title, '') || ' ' || coalesce(notes, ''))) STORED;
CREATE INDEX leads_search_idx ON leads USING GIN (search_doc);
