//! The mail adapter's tests, as one binary: the outbox folder and the sender
//! always run (temporary folders, SQLite, a scripted SMTP server on
//! loopback); delivery through a real SMTP server runs when
//! `FERRY_TEST_SMTP_URL` and `FERRY_TEST_SMTP_API` point at MailDev
//! (`.ci/services/smtp.sh` starts one), and is skipped with a reason otherwise.

mod folder;
mod maildev;
mod sender;
mod smtp_errors;
mod support;
