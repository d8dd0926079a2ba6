//! The blob store's contract suite, written once and run on every backend:
//! memory and a local folder always, an S3-compatible server when
//! `FERRY_TEST_S3_ENDPOINT` and `FERRY_TEST_S3_BUCKET` are set (`.ci/run`
//! starts moto and sets them; credentials come from the usual `AWS_*`
//! variables). Each test gets its own folder or S3 prefix.

mod harness;

mod integrity;
mod keys;
mod lifecycle;
mod parsers;
mod ranges;
mod round_trips;
