-- The context each movement's request told about its visitor (browser, OS,
-- device, place: tracker/storage/rows.py), derived on arrival; the address
-- and the User-Agent themselves are never kept. NULL: unknown.

ALTER TABLE log ADD COLUMN context TEXT;
