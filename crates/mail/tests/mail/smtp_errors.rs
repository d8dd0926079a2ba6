//! How SMTP failures map to the port's errors, against a scripted SMTP
//! server on loopback: what may work later is `Unavailable` (the sender
//! retries), what never will is `Rejected` (the sender gives up).

use std::time::Duration;

use ferry_mail::{SmtpConfig, SmtpTransport};
use ferry_ports::mail::{MailError, MailTransport};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::{from, plain_mail, unique_address};

/// How the scripted server answers one command, or `None` for the usual
/// success.
type Script = fn(&str) -> Option<&'static str>;

/// Starts a minimal SMTP server on loopback that answers per `script`;
/// returns its port. With `greet` false it accepts connections and says
/// nothing, like a server that hangs.
async fn scripted_server(script: Script, greet: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                if !greet {
                    // Hold the connection open without a word.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 scripted ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let reply = script("END OF DATA").unwrap_or("250 2.0.0 queued");
                            let _ = write.write_all(format!("{reply}\r\n").as_bytes()).await;
                        }
                        continue;
                    }
                    let command = line.to_ascii_uppercase();
                    let reply = script(&command).unwrap_or_else(|| {
                        if command.starts_with("EHLO") {
                            "250-scripted\r\n250 AUTH PLAIN LOGIN"
                        } else if command.starts_with("AUTH") {
                            "235 2.7.0 accepted"
                        } else if command == "DATA" {
                            "354 go ahead"
                        } else if command == "QUIT" {
                            "221 bye"
                        } else {
                            "250 ok"
                        }
                    });
                    let _ = write.write_all(format!("{reply}\r\n").as_bytes()).await;
                    if command == "DATA" && reply.starts_with("354") {
                        in_data = true;
                    }
                    if command == "QUIT" {
                        return;
                    }
                }
            });
        }
    });
    port
}

async fn send_through(url: &str) -> Result<(), MailError> {
    let transport = SmtpTransport::new(SmtpConfig::parse(url).unwrap(), from()).unwrap();
    transport.send(&plain_mail(&unique_address("scripted"), 1)).await
}

fn assert_unavailable(case: &str, result: Result<(), MailError>) {
    assert!(matches!(result, Err(MailError::Unavailable(_))), "{case}: should retry later, got {result:?}");
}

fn assert_rejected(case: &str, result: Result<(), MailError>) {
    assert!(matches!(result, Err(MailError::Rejected(_))), "{case}: should give up, got {result:?}");
}

#[tokio::test]
async fn a_server_that_accepts_the_message_is_success() {
    let port = scripted_server(|_| None, true).await;
    send_through(&format!("smtp://127.0.0.1:{port}")).await.unwrap();
}

#[tokio::test]
async fn permanent_replies_about_the_message_are_rejections() {
    let cases: [(&str, Script); 3] = [
        ("550 on RCPT TO", |c| c.starts_with("RCPT TO").then_some("550 5.1.1 no such mailbox")),
        ("553 on MAIL FROM", |c| c.starts_with("MAIL FROM").then_some("553 5.1.8 sender refused")),
        ("554 after DATA", |c| (c == "END OF DATA").then_some("554 5.7.1 message refused as spam")),
    ];
    for (case, script) in cases {
        let port = scripted_server(script, true).await;
        assert_rejected(case, send_through(&format!("smtp://127.0.0.1:{port}")).await);
    }
}

#[tokio::test]
async fn transient_replies_and_authentication_failures_are_retried() {
    let cases: [(&str, Script, &str); 4] = [
        ("451 on MAIL FROM", |c| c.starts_with("MAIL FROM").then_some("451 4.3.0 try again later"), ""),
        ("452 on RCPT TO", |c| c.starts_with("RCPT TO").then_some("452 4.2.2 mailbox full"), ""),
        ("421 after DATA", |c| (c == "END OF DATA").then_some("421 4.3.2 shutting down"), ""),
        // Wrong credentials are the operator's to fix; the mail must wait, not be lost.
        ("535 on AUTH", |c| c.starts_with("AUTH").then_some("535 5.7.8 bad credentials"), "ferry:wrong@"),
    ];
    for (case, script, credentials) in cases {
        let port = scripted_server(script, true).await;
        assert_unavailable(case, send_through(&format!("smtp://{credentials}127.0.0.1:{port}")).await);
    }
}

#[tokio::test]
async fn an_unreachable_or_silent_server_is_unavailable() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    assert_unavailable("connection refused", send_through(&format!("smtp://127.0.0.1:{port}")).await);

    let silent = scripted_server(|_| None, false).await;
    let started = std::time::Instant::now();
    assert_unavailable("no greeting", send_through(&format!("smtp://127.0.0.1:{silent}?timeout=1")).await);
    assert!(started.elapsed() < Duration::from_secs(10), "the timeout applies: {:?}", started.elapsed());

    // TLS required but the server offers no STARTTLS: never send in plain text.
    let plain = scripted_server(|_| None, true).await;
    assert_unavailable("no STARTTLS", send_through(&format!("smtp://127.0.0.1:{plain}?tls=required")).await);
}
