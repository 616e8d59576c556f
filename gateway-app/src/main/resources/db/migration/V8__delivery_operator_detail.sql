-- The full reason of a failed delivery attempt (connection error, timeout, egress refusal) is for
-- the operator only; detail holds what the sender is shown. Null: the same as detail.
alter table delivery add column operator_detail text;
