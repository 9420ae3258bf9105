//! docs/API.md runs as written. Every `sh` block is run in order in one bash
//! shell against a mesh `ayushctl up` starts on shifted ports with the demo
//! data (the only changes: the ports, the debug build of ayushctl, and the
//! partner keys the banner printed in place of the `aym_...` placeholders).
//! Each command must succeed, unless the comment lines right after it give a
//! `Code:` (it must then fail with that code); every `"field": value` those
//! lines show must be in its output, and every `Message:` in its error.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use ayushman_platform::MeshService;
use mesh_tests::{grpcurl, service_binary, workspace_root};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Ports are shifted by this much (`ayushctl up --port-offset`): above
/// Linux's ephemeral range (32768-60999), so no client socket of a test
/// running alongside can hold one of them when `up` binds it (one did, at
/// 400).
const OFFSET: u16 = 11_500;

/// One command of the docs and what its comments promise.
#[derive(Debug)]
struct Command {
    /// The block it is in, counted from 1, for messages.
    block: usize,
    text: String,
    expect: Expectation,
}

#[derive(Debug, Default)]
struct Expectation {
    /// `Code: PermissionDenied`: the command must fail with this gRPC code.
    code: Option<String>,
    /// Text of `Message:` lines, in pieces around `...`.
    message: Vec<String>,
    /// `"field": value` pairs its output must show.
    fields: Vec<(String, String)>,
}

/// The `sh` blocks of a Markdown file.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Whether `text` leaves a single quote open (a JSON body over several lines).
fn open_quote(text: &str) -> bool {
    let mut open = None;
    for c in text.chars() {
        match (open, c) {
            (None, '\'' | '"') => open = Some(c),
            (Some(q), c) if c == q => open = None,
            _ => {}
        }
    }
    open.is_some()
}

/// `"name": value` pairs of a comment: a quoted string, a number or a boolean,
/// leaving out values elided with `...`.
fn fields(comment: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = comment;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let name = &after[..end];
        let tail = after[end + 1..].trim_start();
        rest = &after[end + 1..];
        let Some(value) = tail.strip_prefix(':') else {
            continue;
        };
        let value = value.trim_start();
        let literal = if let Some(quoted) = value.strip_prefix('"') {
            quoted
                .find('"')
                .map(|close| format!("\"{}\"", &quoted[..close]))
        } else {
            let token: String = value
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            (!token.is_empty()).then_some(token)
        };
        if let Some(literal) = literal
            && !literal.contains("...")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.is_empty()
        {
            found.push((name.to_owned(), literal));
        }
    }
    found
}

/// The commands of the blocks, each with the comment lines that follow it.
fn commands(blocks: &[String]) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    for (number, block) in blocks.iter().enumerate() {
        let mut pending = String::new();
        for line in block.lines() {
            let trimmed = line.trim_start();
            if pending.is_empty() && trimmed.starts_with('#') {
                let comment = trimmed.trim_start_matches('#').trim();
                if let Some(last) = commands.last_mut().filter(|c| c.block == number + 1) {
                    let expect = &mut last.expect;
                    if let Some(code) = comment.strip_prefix("Code:") {
                        expect.code = Some(code.trim().to_owned());
                    } else if let Some(message) = comment.strip_prefix("Message:") {
                        expect.message.extend(
                            message
                                .split("...")
                                .map(|piece| piece.trim().trim_end_matches(';').trim().to_owned())
                                .filter(|piece| !piece.is_empty()),
                        );
                    } else {
                        expect.fields.extend(fields(comment));
                    }
                }
                continue;
            }
            if pending.is_empty() && trimmed.is_empty() {
                continue;
            }
            pending.push_str(line);
            pending.push('\n');
            if line.trim_end().ends_with('\\') || open_quote(&pending) {
                continue;
            }
            commands.push(Command {
                block: number + 1,
                text: std::mem::take(&mut pending),
                expect: Expectation::default(),
            });
        }
        assert!(
            pending.is_empty(),
            "block {}: unfinished command {pending}",
            number + 1
        );
    }
    commands
}

/// The command as run here: ports shifted, the debug ayushctl, real keys.
fn adapted(text: &str, keys: &BTreeMap<String, String>) -> String {
    let mut text = text.replace("./target/release/ayushctl", "ayushctl_here");
    for service in MeshService::ALL {
        for port in [service.default_port(), service.default_admin_port()] {
            text = text.replace(
                &format!("localhost:{port}"),
                &format!("localhost:{}", port + OFFSET),
            );
        }
    }
    for (variable, key) in keys {
        for placeholder in ["aym_...", "USR-..."] {
            text = text.replace(
                &format!("{variable}={placeholder}"),
                &format!("{variable}={key}"),
            );
        }
    }
    text
}

/// `ayushctl up`, told to stop its services (SIGINT, as Ctrl-C) when dropped,
/// however the test ends.
struct Up(tokio::process::Child);

impl Drop for Up {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGINT,
            );
        }
    }
}

/// Starts the mesh with demo data; returns it and the keys its banner printed
/// for each placeholder variable the docs use.
async fn mesh_up(data: &Path) -> (Up, BTreeMap<String, String>) {
    let ayushctl = service_binary(MeshService::Gateway).with_file_name("ayushctl");
    let mut up = tokio::process::Command::new(&ayushctl)
        .args(["up", "--port-offset", &OFFSET.to_string(), "--bin-dir"])
        .arg(ayushctl.parent().expect("bin dir"))
        .arg("--data-dir")
        .arg(data)
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ayushctl up starts");
    let mut lines = BufReader::new(up.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    let announced = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = lines.next_line().await.expect("read banner") {
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(announced, Ok(true)),
        "the mesh did not come up: {banner:#?}"
    );
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let key_of = |name: &str| {
        banner
            .iter()
            .find(|line| line.trim_start().starts_with(name))
            .and_then(|line| line.split_whitespace().last())
            .unwrap_or_else(|| panic!("no key for {name} in the banner: {banner:#?}"))
            .to_owned()
    };
    let mut keys = BTreeMap::from([
        ("ADMIN".to_owned(), key_of("Mesh operator")),
        ("HIS".to_owned(), key_of("Maharani District Hospital HIS")),
        (
            "BIHAR".to_owned(),
            key_of("Bihar State Health Society portal"),
        ),
        ("TPA".to_owned(), key_of("Demo TPA")),
        ("APP".to_owned(), key_of("Ayushman app")),
    ]);
    for user in [
        "PMAM",
        "MEDCO",
        "PPD",
        "CPD",
        "CPD2",
        "CEX",
        "ACO",
        "SHA_ADMIN",
        "OPERATOR",
        "DISTRICT_COORDINATOR",
        "BENEFICIARY",
    ] {
        keys.insert(user.to_owned(), key_of(&format!("user {user} ")));
    }
    (Up(up), keys)
}

/// A folder that shows the checkout's top level through symbolic links, so
/// the docs' relative paths (docs/examples/..., proto/...) resolve while the
/// files their commands write (reports, exports) land outside the checkout.
fn checkout_view(root: &Path) -> tempfile::TempDir {
    let view = tempfile::tempdir().expect("checkout view");
    for entry in std::fs::read_dir(root).expect("workspace root lists") {
        let entry = entry.expect("workspace entry");
        std::os::unix::fs::symlink(entry.path(), view.path().join(entry.file_name()))
            .expect("links into the checkout view");
    }
    view
}

#[tokio::test]
async fn every_command_in_api_md_runs_as_documented() {
    grpcurl();
    let root = workspace_root();
    let markdown = std::fs::read_to_string(root.join("docs/API.md")).expect("docs/API.md");
    let commands = commands(&sh_blocks(&markdown));
    assert!(
        commands.len() > 50,
        "only {} commands found",
        commands.len()
    );

    let data = tempfile::tempdir().expect("data folder");
    let (up, keys) = mesh_up(data.path()).await;
    let outputs = tempfile::tempdir().expect("output folder");
    let checkout = checkout_view(&root);
    let ayushctl = service_binary(MeshService::Gateway).with_file_name("ayushctl");
    let mut script = format!(
        "ayushctl_here() {{ {} \"$@\" --port-offset {OFFSET}; }}\n",
        ayushctl.display()
    );
    for (n, command) in commands.iter().enumerate() {
        let out = outputs.path().join(n.to_string());
        script.push_str(&format!(
            "{{\n{}\n}} > {out}.out 2> {out}.err < /dev/null; echo $? > {out}.rc\n",
            adapted(&command.text, &keys),
            out = out.display()
        ));
    }
    let run = tokio::time::timeout(
        Duration::from_secs(600),
        tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(checkout.path())
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("the docs run within ten minutes")
    .expect("bash runs");
    drop(up);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let mut wrong = Vec::new();
    for (n, command) in commands.iter().enumerate() {
        let read = |ext: &str| {
            std::fs::read_to_string(outputs.path().join(format!("{n}.{ext}"))).unwrap_or_default()
        };
        let (out, err, rc) = (read("out"), read("err"), read("rc"));
        let succeeded = rc.trim() == "0";
        let mut problems = Vec::new();
        match &command.expect.code {
            None if !succeeded => problems.push(format!("failed (exit {})", rc.trim())),
            Some(code) if succeeded => problems.push(format!("succeeded; Code: {code} expected")),
            Some(code) if !err.contains(&format!("Code: {code}")) => {
                problems.push(format!("did not fail with Code: {code}"));
            }
            _ => {}
        }
        for piece in &command.expect.message {
            if !err.contains(piece.as_str()) && !out.contains(piece.as_str()) {
                problems.push(format!("says nothing like {piece:?}"));
            }
        }
        let compact = |text: &str| text.replace(": ", ":");
        for (name, value) in &command.expect.fields {
            let pair = compact(&format!("\"{name}\": {value}"));
            if !compact(&out).contains(&pair) {
                problems.push(format!("shows no \"{name}\": {value}"));
            }
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "block {} command {}:\n{}  -> {}\n  stdout: {}\n  stderr: {}",
                command.block,
                n + 1,
                command.text,
                problems.join("; "),
                out.chars().take(600).collect::<String>(),
                err.chars().take(600).collect::<String>()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} commands of docs/API.md do not run as documented:\n\n{}",
        wrong.len(),
        commands.len(),
        wrong.join("\n\n")
    );
}

#[test]
fn commands_and_their_promises_are_read_from_the_blocks() {
    let blocks = sh_blocks(
        "text\n```sh\nX=$(call a \\\n  b)\n# \"status\": \"OK\", \"count\": 2, \"id\": \"PA-...\"\ncall '{\"a\":\n1}'\n# Code: NotFound\n# Message: no preauth ... at all\n```\n",
    );
    let commands = commands(&blocks);
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].text, "X=$(call a \\\n  b)\n");
    assert_eq!(
        commands[0].expect.fields,
        [
            ("status".to_owned(), "\"OK\"".to_owned()),
            ("count".to_owned(), "2".to_owned())
        ]
    );
    assert_eq!(commands[1].expect.code.as_deref(), Some("NotFound"));
    assert_eq!(commands[1].expect.message, ["no preauth", "at all"]);
    let keys = BTreeMap::from([("HIS".to_owned(), "aym_real".to_owned())]);
    assert_eq!(
        adapted(
            "HIS=aym_... # key\n$G localhost:8080 list && ./target/release/ayushctl x",
            &keys
        ),
        "HIS=aym_real # key\n$G localhost:19580 list && ayushctl_here x"
    );
}

/// Where the example files the docs name live.
#[test]
fn the_example_files_the_docs_name_exist() {
    let root: PathBuf = workspace_root();
    let markdown = std::fs::read_to_string(root.join("docs/API.md")).expect("docs/API.md");
    for word in markdown.split_whitespace() {
        if let Some(path) = word.strip_prefix("docs/examples/") {
            let path = path.trim_end_matches(['`', ')', '.', ',']);
            assert!(
                root.join("docs/examples").join(path).exists(),
                "docs/API.md names docs/examples/{path}, which is missing"
            );
        }
    }
}
