-- Revenue a movement brings (tracker/storage/rows.py): the amount as exact decimal text
-- in its currency's minor units, and the ISO 4217 code. NULL: none.

ALTER TABLE log ADD COLUMN revenue TEXT;
ALTER TABLE log ADD COLUMN currency TEXT;
