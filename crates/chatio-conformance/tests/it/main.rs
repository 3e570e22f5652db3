//! Every recorded transcript replays into the core (outputs snapshotted) and against the
//! reference server (frames compared).

use std::path::Path;

use chatio_conformance::transcript::Transcript;

#[test]
fn replay_into_the_core() {
    insta::glob!("../../../../fixtures", "recorded/*.jsonl", |path| {
        let t = Transcript::read(path).expect("transcript");
        let r =
            chatio_conformance::replay_core::replay(&t).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.chain()));
        assert!(r.frames_compared > 0);
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_json_snapshot!(r.outputs);
        });
    });
}

#[test]
fn replay_against_the_server() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/recorded");
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).expect("fixtures/recorded").filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    assert!(names.len() >= 9, "expected the recorded sessions in {}", dir.display());
    for path in names {
        let t = Transcript::read(&path).expect("transcript");
        let n = async_std::task::block_on(chatio_conformance::replay_server::replay(&t))
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.chain()));
        assert!(n > 0, "{}: no server frame compared", path.display());
    }
}

mod check_server;
mod serve;

#[test]
fn agent_sessions_replay_into_the_core() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/recorded-agent");
    let count = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert!(
        count >= chatio_conformance::record_agent::SESSIONS.len(),
        "expected the recorded agent sessions in {}",
        dir.display()
    );
    insta::glob!("../../../../fixtures", "recorded-agent/*.jsonl", |path| {
        let t = Transcript::read(path).expect("transcript");
        let r = chatio_conformance::replay_agent_core::replay(&t)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.chain()));
        assert!(r.frames_compared > 0);
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_json_snapshot!(r.outputs);
        });
    });
}
